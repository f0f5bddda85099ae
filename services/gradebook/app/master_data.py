"""Master data: declaring a school and importing its teachers, classes, students and assignments."""

from __future__ import annotations

import json
from typing import Any

from contracts.audit import AuditAction, school_entity_id
from services.gradebook.app.audit import audit_change
from services.gradebook.app.handlers import SCHOOL_NOT_FOUND, require
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain import roster
from services.gradebook.domain.commands import ImportMasterData
from services.gradebook.domain.errors import ImportRejected, NotFound, NotPermitted
from services.gradebook.domain.permissions import Action, Actor, Target, decide
from services.gradebook.store.repository import ForeignRowsSkipped
from services.runtime.data_key import DataVault, Hashed, Sealed


def import_master_data(cmd: ImportMasterData, uow: GradebookUnitOfWork) -> dict[str, Any]:
    """All rows or none: any rejected row rejects the file, with the report of every problem."""
    require(decide(cmd.actor, Action.IMPORT_MASTER_DATA, Target(cmd.school_id)))
    with uow:
        school = uow.gradebook.school(cmd.school_id)
        if school is None:
            raise NotFound(SCHOOL_NOT_FOUND)
        year = school["current_year"]
        _refuse_foreign_ids(uow, cmd.school_id, cmd.kind, cmd.rows)
        report = roster.check_rows(
            cmd.kind,
            cmd.rows,
            known=uow.gradebook.known_ids(cmd.school_id, year),
            class_grades=uow.gradebook.class_grades(cmd.school_id),
        )
        if not report.ok:
            raise ImportRejected(
                f"Không nhập dòng nào: {len(report.rejected)} lỗi trong tệp. Sửa các dòng được liệt kê rồi gửi lại.",
                [{"row": e.row, "column": e.column, "reason": e.reason_vi} for e in report.rejected],
            )
        rows = report.accepted
        try:
            if cmd.kind == "teachers":
                uow.gradebook.add_teachers(cmd.school_id, rows)
            elif cmd.kind == "classes":
                uow.gradebook.add_classes(cmd.school_id, year, rows)
            elif cmd.kind == "students":
                _protect_personal_ids(uow, cmd.school_id, rows)
                uow.gradebook.add_students(cmd.school_id, rows)
            else:
                uow.gradebook.add_assignments(rows)
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
    foreign = {table: uow.gradebook.foreign_ids(table, school_id, ids) for table, ids in wanted.items()}
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


def _protect_personal_ids(uow: GradebookUnitOfWork, school_id: str, rows: list[dict[str, Any]]) -> None:
    """Encrypt each personal ID (keeping its keyed hash) and the birth details; one ID, one student of the school.

    A student stored before the data key's sub-keys keeps its old (v0) hash until re-imported, so the check
    matches both the current and the v0 hash of each ID (services/runtime/data_key.py); the row stores the current.
    """
    vault = DataVault.from_settings()
    candidates: dict[str, str] = {}  # every hash an ID may be stored under → the current one
    for r in rows:
        # What the học bạ prints about the person travels to the transcript service sealed, like the ID.
        details = {"birth_date": r["birth_date"].isoformat(), "birth_place": r.pop("birth_place", None)}
        details["ethnicity"] = r.get("ethnicity")
        r["personal_details_enc"] = vault.encrypt(
            json.dumps(details, ensure_ascii=False), Sealed.PERSONAL_DETAILS
        )
        pid = r.pop("personal_id", None)
        r["personal_id_enc"] = vault.encrypt(pid, Sealed.PERSONAL_ID) if pid else None
        r["personal_id_hash"] = None
        if pid:
            current, legacy = vault.keyed_hashes(pid, Hashed.PERSONAL_ID_LOOKUP)
            r["personal_id_hash"] = current
            candidates[current] = candidates[legacy] = current
    owners: dict[str, str] = {}
    for stored, owner in uow.gradebook.personal_id_owners(school_id, list(candidates)).items():
        owners.setdefault(candidates[stored], owner)
        if owners[candidates[stored]] != owner:
            owners[candidates[stored]] = (
                ""  # two students already hold this ID (one per hash): nobody may take it
            )
    seen: dict[str, int] = {}
    rejected = []
    for number, r in enumerate(rows, start=2):
        h = r["personal_id_hash"]
        if h and ((h in owners and owners[h] != r["student_id"]) or h in seen):
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


def declare_school(
    actor: Actor, school_id: str, values: dict[str, Any], uow: GradebookUnitOfWork
) -> dict[str, Any]:
    """The platform operator (or the school's clerk) declares a school and the year open for entry."""
    if not ("operator" in actor.roles or ("staff" in actor.roles and actor.acts_for(school_id))):
        raise NotPermitted("Chỉ quản trị hệ thống hoặc văn thư của trường được khai báo trường.")
    with uow:
        before = uow.gradebook.school(school_id)
        after = {"id": school_id, **values}
        uow.gradebook.upsert_school(after)
        if before != after:
            audit_change(
                uow,
                actor,
                AuditAction.SCHOOL_DECLARE,
                school_entity_id(school_id),
                school_id=school_id,
                before=before,
                after=after,
            )
        uow.commit()
    return after
