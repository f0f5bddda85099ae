"""Bulk import of master data: every row checked, every rejection reported, nothing imported unless all pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.gradebook.domain.curriculum import subject
from services.gradebook.domain.identity import personal_id_problem

KINDS = ("teachers", "classes", "students", "assignments")

COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    # (column, required)
    "teachers": (("teacher_id", True), ("full_name", True)),
    "classes": (("class_id", True), ("name", True), ("grade", True), ("homeroom_teacher_id", False)),
    "students": (
        ("student_id", True),
        ("class_id", True),
        ("full_name", True),
        ("gender", True),
        ("birth_date", True),
        ("roll_number", False),
        ("moet_code", False),
        ("ethnicity", False),
        ("personal_id", False),
        ("birth_place", False),
        ("register_number", False),
    ),
    "assignments": (
        ("class_id", True),
        ("subject_code", True),
        ("teacher_id", True),
        ("periods_per_year", False),
    ),
}

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
GENDERS = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ", "m": "Nam", "f": "Nữ"}


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row, as a spreadsheet user counts it after the header (header is row 1)
    column: str
    reason_vi: str


@dataclass(frozen=True)
class ImportReport:
    kind: str
    accepted: list[dict[str, Any]]
    rejected: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.rejected


def _text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def check_rows(
    kind: str, rows: list[dict[str, Any]], *, known: dict[str, set[str]], class_grades: dict[str, int]
) -> ImportReport:
    """Validate ``rows`` of ``kind``. ``known`` holds ids already in the school (teachers, classes, students)."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    accepted: list[dict[str, Any]] = []
    rejected: list[RowError] = []
    seen: set[str] = set()
    columns = COLUMNS[kind]
    for number, raw in enumerate(rows, start=2):
        errors: list[RowError] = []
        record: dict[str, Any] = {}
        for column, required in columns:
            value = _text(raw, column)
            if required and not value:
                errors.append(RowError(number, column, "Thiếu giá trị bắt buộc."))
            record[column] = value or None
        unknown = sorted(set(raw) - {c for c, _ in columns})
        if unknown and number == 2:
            errors.append(
                RowError(
                    number, unknown[0], f"Cột không được hỗ trợ; các cột: {', '.join(c for c, _ in columns)}."
                )
            )
        if not errors:
            errors += _check_record(kind, number, record, known, class_grades)
        key = _key(kind, record)
        if key and key in seen:
            errors.append(RowError(number, columns[0][0], "Trùng với một dòng phía trên."))
        seen.add(key)
        if errors:
            rejected.extend(errors)
        else:
            accepted.append(record)
    return ImportReport(kind, accepted if not rejected else [], rejected)


def _key(kind: str, record: dict[str, Any]) -> str:
    if kind == "assignments":
        return f"{record.get('class_id')}:{record.get('subject_code')}"
    return str(record.get(COLUMNS[kind][0][0]) or "")


def _check_record(
    kind: str, n: int, r: dict[str, Any], known: dict[str, set[str]], class_grades: dict[str, int]
) -> list[RowError]:
    errors: list[RowError] = []
    for column in ("teacher_id", "class_id", "student_id", "homeroom_teacher_id"):
        if r.get(column) and not _ID.match(r[column]):
            errors.append(
                RowError(n, column, "Mã chỉ gồm chữ, số, dấu chấm, gạch ngang, gạch dưới (tối đa 64).")
            )
    if kind == "classes":
        try:
            grade = int(r["grade"])
            if not 1 <= grade <= 12:
                raise ValueError
            r["grade"] = grade
        except ValueError:
            errors.append(RowError(n, "grade", "Khối lớp phải là số nguyên từ 1 đến 12."))
        if r.get("homeroom_teacher_id") and r["homeroom_teacher_id"] not in known["teachers"]:
            errors.append(
                RowError(n, "homeroom_teacher_id", "Giáo viên chủ nhiệm chưa có trong danh sách giáo viên.")
            )
    if kind == "students":
        if r["class_id"] not in known["classes"]:
            errors.append(RowError(n, "class_id", "Lớp chưa có trong danh sách lớp của năm học."))
        gender = GENDERS.get(str(r["gender"]).lower())
        if gender is None:
            errors.append(RowError(n, "gender", "Giới tính là Nam hoặc Nữ."))
        r["gender"] = gender
        try:
            r["birth_date"] = _date(r["birth_date"])
        except ValueError:
            errors.append(RowError(n, "birth_date", "Ngày sinh theo dạng YYYY-MM-DD hoặc DD/MM/YYYY."))
        if r.get("roll_number"):
            try:
                r["roll_number"] = int(r["roll_number"])
            except ValueError:
                errors.append(RowError(n, "roll_number", "Số thứ tự phải là số nguyên."))
        if r.get("personal_id") and not errors:
            problem = personal_id_problem(r["personal_id"], r["birth_date"], gender or "")
            if problem:
                errors.append(RowError(n, "personal_id", problem))
    if kind == "assignments":
        if r["class_id"] not in known["classes"]:
            errors.append(RowError(n, "class_id", "Lớp chưa có trong danh sách lớp của năm học."))
        if r["teacher_id"] not in known["teachers"]:
            errors.append(RowError(n, "teacher_id", "Giáo viên chưa có trong danh sách giáo viên."))
        class_grade = class_grades.get(r["class_id"])
        if class_grade is not None:
            try:
                subject(r["subject_code"], class_grade)
            except KeyError:
                errors.append(
                    RowError(n, "subject_code", f"Mã môn không có trong chương trình khối {class_grade}.")
                )
        if r.get("periods_per_year"):
            try:
                r["periods_per_year"] = int(r["periods_per_year"])
            except ValueError:
                errors.append(RowError(n, "periods_per_year", "Số tiết/năm phải là số nguyên."))
        elif class_grade is not None and class_grade >= 6:
            try:
                if subject(r["subject_code"], class_grade).assessment.value == "score":
                    errors.append(
                        RowError(
                            n,
                            "periods_per_year",
                            "Môn tính điểm cần số tiết/năm (để biết số điểm thường xuyên).",
                        )
                    )
            except KeyError:
                pass
    return errors
