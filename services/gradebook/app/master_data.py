"""Master data: declaring a school and importing its teachers, classes, students and assignments."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from contracts.audit import AuditAction, school_entity_id
from services.gradebook.app.audit import audit_change
from services.gradebook.app.handlers import SCHOOL_NOT_FOUND, require
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain import roster
from services.gradebook.domain.commands import ImportMasterData
from services.gradebook.domain.errors import ForeignRowsSkipped, ImportRejected, NotFound
from services.gradebook.domain.model import Assignment, School, SchoolClass, Student, Teacher
from services.gradebook.domain.permissions import Action, Actor, Target, decide
from services.runtime.data_key import DataVault, Hashed, Sealed


def import_master_data(cmd: ImportMasterData, uow: GradebookUnitOfWork, vault: DataVault) -> dict[str, Any]:
    """All rows or none: any rejected row rejects the file, with the report of every problem (``vault`` seals
    students' personal data)."""
    require(decide(cmd.actor, Action.IMPORT_MASTER_DATA, Target(cmd.school_id)))
    with uow:
        school = uow.master_data.school(cmd.school_id)
        if school is None:
            raise NotFound(SCHOOL_NOT_FOUND)
        year = school.current_year
        _refuse_foreign_ids(uow, cmd.school_id, cmd.kind, cmd.rows)
        report = roster.check_rows(
            cmd.kind,
            cmd.rows,
            known=uow.master_data.known_ids(cmd.school_id, year),
            class_grades=uow.master_data.class_grades(cmd.school_id),
        )
        if not report.ok:
            raise ImportRejected(
                f"Không nhập dòng nào: {len(report.rejected)} lỗi trong tệp. Sửa các dòng được liệt kê rồi gửi lại.",
                [{"row": e.row, "column": e.column, "reason": e.reason_vi} for e in report.rejected],
            )
        rows = report.accepted
        try:
            if cmd.kind == "teachers":
                uow.master_data.add_teachers(
                    cmd.school_id, [Teacher(r["teacher_id"], r["full_name"]) for r in rows]
                )
            elif cmd.kind == "classes":
                uow.master_data.add_classes(
                    cmd.school_id,
                    year,
                    [
                        SchoolClass(r["class_id"], r["name"], r["grade"], r.get("homeroom_teacher_id"))
                        for r in rows
                    ],
                )
            elif cmd.kind == "students":
                uow.master_data.add_students(cmd.school_id, _sealed_students(uow, cmd.school_id, rows, vault))
            else:
                uow.master_data.add_assignments(
                    [
                        Assignment(
                            r["class_id"], r["subject_code"], r["teacher_id"], r.get("periods_per_year")
                        )
                        for r in rows
                    ]
                )
        except ForeignRowsSkipped:
            # Another school imported one of these ids between our check and the write: check again to name it.
            uow.rollback()
            _refuse_foreign_ids(uow, cmd.school_id, cmd.kind, cmd.rows)
            raise ImportRejected(
                "Không nhập dòng nào: một số mã vừa được trường khác sử dụng. Gửi lại tệp.", []
            ) from None
        audit_change(
            uow,
            cmd.actor,
            AuditAction(f"master.import.{cmd.kind}"),  # one action per kind in roster.KINDS
            school_entity_id(cmd.school_id),
            school_id=cmd.school_id,
            changes={"rows": str(len(rows))},
        )
        uow.commit()
    return {"kind": cmd.kind, "imported": len(rows)}


# Per import kind: the columns holding ids of rows that belong to a school, with the table and the Vietnamese label.
_OWNED_COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "teachers": (("teacher_id", "teachers", "mã giáo viên"),),
    "classes": (
        ("class_id", "classes", "mã lớp"),
        ("homeroom_teacher_id", "teachers", "mã giáo viên chủ nhiệm"),
    ),
    "students": (("student_id", "students", "mã học sinh"), ("class_id", "classes", "mã lớp")),
    "assignments": (("class_id", "classes", "mã lớp"), ("teacher_id", "teachers", "mã giáo viên")),
}


def _refuse_foreign_ids(
    uow: GradebookUnitOfWork, school_id: str, kind: str, rows: list[dict[str, Any]]
) -> None:
    """Refuse the whole file, row by row, if it names an id another school owns (one query per table)."""
    columns = _OWNED_COLUMNS.get(kind, ())
    wanted: dict[str, set[str]] = {}
    for raw in rows:
        for column, table, _ in columns:
            value = str(raw.get(column) or "").strip()
            if value:
                wanted.setdefault(table, set()).add(value)
    foreign = {table: uow.master_data.foreign_ids(table, school_id, ids) for table, ids in wanted.items()}
    rejected: list[dict[str, object]] = []
    for number, raw in enumerate(rows, start=2):
        for column, table, label in columns:
            value = str(raw.get(column) or "").strip()
            if value and value in foreign.get(table, set()):
                rejected.append(
                    {
                        "row": number,
                        "column": column,
                        "reason": f"Dòng {number}: {label} {value} đã thuộc trường khác.",
                    }
                )
    if rejected:
        raise ImportRejected(
            f"Không nhập dòng nào: {len(rejected)} mã trong tệp đã thuộc trường khác.", rejected
        )


def _sealed_students(
    uow: GradebookUnitOfWork, school_id: str, rows: list[dict[str, Any]], vault: DataVault
) -> list[Student]:
    """The students to write, each personal ID encrypted (keeping its keyed hash) and the birth details too; one ID,
    one student of the school.

    A student stored before the data key's sub-keys keeps its old (v0) hash until re-imported, so the check
    matches both the current and the v0 hash of each ID (services/runtime/data_key.py); the row stores the current.
    """
    candidates: dict[str, str] = {}  # every hash an ID may be stored under → the current one
    sealed: list[Student] = []
    for r in rows:
        # What the học bạ prints about the person travels to the transcript service sealed, like the ID.
        details = {"birth_date": r["birth_date"].isoformat(), "birth_place": r.get("birth_place")}
        details["ethnicity"] = r.get("ethnicity")
        pid = r.get("personal_id")
        personal_id_hash = None
        if pid:
            current, legacy = vault.keyed_hashes(pid, Hashed.PERSONAL_ID_LOOKUP)
            personal_id_hash = current
            candidates[current] = candidates[legacy] = current
        sealed.append(
            Student(
                id=r["student_id"],
                class_id=r["class_id"],
                full_name=r["full_name"],
                gender=r["gender"],
                birth_date=r["birth_date"],
                roll_number=r.get("roll_number"),
                moet_code=r.get("moet_code"),
                ethnicity=r.get("ethnicity"),
                register_number=r.get("register_number"),
                personal_details_enc=vault.encrypt(
                    json.dumps(details, ensure_ascii=False), Sealed.PERSONAL_DETAILS
                ),
                personal_id_enc=vault.encrypt(pid, Sealed.PERSONAL_ID) if pid else None,
                personal_id_hash=personal_id_hash,
            )
        )
    owners: dict[str, str] = {}
    for stored, owner in uow.master_data.personal_id_owners(school_id, list(candidates)).items():
        owners.setdefault(candidates[stored], owner)
        if owners[candidates[stored]] != owner:
            owners[candidates[stored]] = (
                ""  # two students already hold this ID (one per hash): nobody may take it
            )
    seen: dict[str, int] = {}
    rejected = []
    for number, student in enumerate(sealed, start=2):
        h = student.personal_id_hash
        if h and ((h in owners and owners[h] != student.id) or h in seen):
            rejected.append(
                {
                    "row": number,
                    "column": "personal_id",
                    "reason": "Số định danh cá nhân đã dùng cho học sinh khác của trường.",
                }
            )
        if h:
            seen[h] = number
    if rejected:
        raise ImportRejected(f"Không nhập dòng nào: {len(rejected)} lỗi trong tệp.", rejected)
    return sealed


def declare_school(
    actor: Actor, school_id: str, values: dict[str, Any], uow: GradebookUnitOfWork
) -> dict[str, Any]:
    """The platform operator (or the school's clerk) declares a school and the year open for entry."""
    require(decide(actor, Action.DECLARE_SCHOOL, Target(school_id)))
    with uow:
        before = uow.master_data.school(school_id)
        after = School(id=school_id, **values)
        uow.master_data.upsert_school(after)
        if before != after:
            audit_change(
                uow,
                actor,
                AuditAction.SCHOOL_DECLARE,
                school_entity_id(school_id),
                school_id=school_id,
                before=None if before is None else asdict(before),
                after=asdict(after),
            )
        uow.commit()
    return asdict(after)
