"""Gradebook use cases: one function per command, each in one unit of work (state + outbox in one commit)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.gradebook import AmendmentAppliedV1
from services.gradebook.app.audit import audit_event
from services.gradebook.app.snapshot import build_snapshot, student_computation, term_locked_event
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain import roster
from services.gradebook.domain.commands import (
    DecideAmendment,
    ImportMasterData,
    LockTerm,
    ProposeAmendment,
    RecordHomeroom,
    RecordMarks,
    UnlockTerm,
)
from services.gradebook.domain.curriculum import subject
from services.gradebook.domain.errors import (
    AmendmentNotAllowed,
    ImportRejected,
    NotFound,
    NotPermitted,
    TermIsLocked,
)
from services.gradebook.domain.marks import MarkInvalid, validate_entry, validate_homeroom
from services.gradebook.domain.permissions import Action, Actor, Decision, Target, decide
from services.gradebook.domain.term_lock import TermAlreadyLocked, TermLock, TermNotLocked, term_label
from services.gradebook.domain.term_lock import lock_term as lock_term_rule
from services.gradebook.store.repository import ClassInfo
from services.runtime.personal_data import PersonalIdVault


def require(decision: Decision) -> None:
    if not decision.allowed:
        raise NotPermitted(decision.reason_vi)


def _class(uow: GradebookUnitOfWork, class_id: str, guard: str | None = None) -> ClassInfo:
    info = uow.gradebook.class_info(class_id, guard=guard)
    if info is None:
        raise NotFound("Không tìm thấy lớp này.")
    return info


def _target(
    uow: GradebookUnitOfWork, actor: Actor, info: ClassInfo, subject_code: str | None = None
) -> Target:
    assigned = False
    if subject_code is not None:
        assignment = uow.gradebook.assignment(info.id, subject_code)
        assigned = assignment is not None and assignment["teacher_id"] == actor.user_id
    else:
        assigned = any(a["teacher_id"] == actor.user_id for a in uow.gradebook.class_assignments(info.id))
    return Target(
        info.school_id,
        assigned=assigned,
        homeroom=info.homeroom_teacher_id == actor.user_id,
        current_year=info.current_year,
    )


def _refuse_if_locked(uow: GradebookUnitOfWork, info: ClassInfo, term: str) -> None:
    lock = uow.term_locks.is_locked(info.id, term)
    if lock is not None:
        raise TermIsLocked(
            f"Học kỳ {term_label(term)} của lớp {info.name} đã khóa. Mọi thay đổi cần biên bản điều chỉnh "
            "được hiệu trưởng phê duyệt."
        )


def _entity(info: ClassInfo, student_id: str, subject_code: str | None, term: str) -> str:
    return f"class/{info.id}/student/{student_id}/{subject_code or 'homeroom'}/{term}"


# -- master data -------------------------------------------------------------------------------------------------


def import_master_data(cmd: ImportMasterData, uow: GradebookUnitOfWork) -> dict[str, Any]:
    """All rows or none: any rejected row rejects the file, with the report of every problem."""
    require(decide(cmd.actor, Action.IMPORT_MASTER_DATA, Target(cmd.school_id)))
    with uow:
        school = uow.gradebook.school(cmd.school_id)
        if school is None:
            raise NotFound("Trường chưa được khai báo.")
        year = school["current_year"]
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
        if cmd.kind == "teachers":
            uow.gradebook.add_teachers(cmd.school_id, rows)
        elif cmd.kind == "classes":
            uow.gradebook.add_classes(cmd.school_id, year, rows)
        elif cmd.kind == "students":
            _protect_personal_ids(uow, cmd.school_id, rows)
            uow.gradebook.add_students(cmd.school_id, rows)
        else:
            uow.gradebook.add_assignments(rows)
        uow.emit(
            audit_event(
                cmd.actor,
                f"master.import.{cmd.kind}",
                cmd.kind,
                f"school/{cmd.school_id}",
                school_id=cmd.school_id,
                changes={"rows": str(len(rows))},
            )
        )
        uow.commit()
    return {"kind": cmd.kind, "imported": len(rows)}


def _protect_personal_ids(uow: GradebookUnitOfWork, school_id: str, rows: list[dict[str, Any]]) -> None:
    """Encrypt each personal ID and keep its keyed hash; one ID belongs to one student of the school."""
    vault = PersonalIdVault.from_settings()
    for r in rows:
        pid = r.pop("personal_id", None)
        r["personal_id_enc"] = vault.encrypt(pid) if pid else None
        r["personal_id_hash"] = vault.keyed_hash(pid) if pid else None
    hashes = [r["personal_id_hash"] for r in rows if r["personal_id_hash"]]
    owners = uow.gradebook.personal_id_owners(school_id, hashes)
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


# -- the class sheet ---------------------------------------------------------------------------------------------


def record_marks(cmd: RecordMarks, uow: GradebookUnitOfWork) -> dict[str, int]:
    with uow:
        # Share-lock the class row: a concurrent lock_term (FOR UPDATE) waits for us or we wait for it, so no
        # value can change after the lock's snapshot.
        info = _class(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.WRITE_MARKS, _target(uow, cmd.actor, info, cmd.subject_code)))
        _refuse_if_locked(uow, info, cmd.term)
        assignment = uow.gradebook.assignment(info.id, cmd.subject_code)
        assert assignment is not None  # the permission check needs it
        subj = subject(cmd.subject_code, info.grade)
        enrolled = {s["id"] for s in uow.gradebook.roster(info.id)}
        entries: dict[str, dict[str, Any]] = {}
        for i, raw in enumerate(cmd.entries):
            raw = dict(raw)
            student_id = raw.pop("student_id", None)
            if student_id not in enrolled:
                raise MarkInvalid(f"entries[{i}].student_id", "Học sinh không thuộc lớp này.")
            entries[student_id] = validate_entry(
                subj, assignment["periods_per_year"], raw, f"entries[{i}]"
            ).as_dict()
        before = uow.gradebook.marks_of(info.id, cmd.subject_code, cmd.term, list(entries))
        now = datetime.now(UTC)
        changed = {sid: entry for sid, entry in entries.items() if before.get(sid) != entry}
        uow.gradebook.save_marks(info.id, cmd.subject_code, cmd.term, changed, cmd.actor.user_id, now)
        for student_id, entry in changed.items():
            uow.emit(
                audit_event(
                    cmd.actor,
                    "marks.record",
                    "marks",
                    _entity(info, student_id, cmd.subject_code, cmd.term),
                    school_id=info.school_id,
                    before=before.get(student_id),
                    after=entry,
                )
            )
        uow.commit()
    return {"saved": len(changed), "unchanged": len(entries) - len(changed)}


def record_homeroom(cmd: RecordHomeroom, uow: GradebookUnitOfWork) -> dict[str, int]:
    with uow:
        info = _class(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.WRITE_HOMEROOM, _target(uow, cmd.actor, info)))
        _refuse_if_locked(uow, info, cmd.term)
        enrolled = {s["id"] for s in uow.gradebook.roster(info.id)}
        records: dict[str, dict[str, Any]] = {}
        for i, raw in enumerate(cmd.entries):
            raw = dict(raw)
            student_id = raw.pop("student_id", None)
            if student_id not in enrolled:
                raise MarkInvalid(f"entries[{i}].student_id", "Học sinh không thuộc lớp này.")
            records[student_id] = validate_homeroom(info.grade, raw, f"entries[{i}]")
        before = uow.gradebook.student_terms_of(info.id, cmd.term, list(records))
        now = datetime.now(UTC)
        saved = 0
        for student_id, new in records.items():
            merged = {**(before.get(student_id) or {}), **new}
            if merged == before.get(student_id):
                continue
            uow.gradebook.save_student_term(info.id, student_id, cmd.term, merged, cmd.actor.user_id, now)
            uow.emit(
                audit_event(
                    cmd.actor,
                    "homeroom.record",
                    "student_term",
                    _entity(info, student_id, None, cmd.term),
                    school_id=info.school_id,
                    before=before.get(student_id),
                    after=merged,
                )
            )
            saved += 1
        uow.commit()
    return {"saved": saved, "unchanged": len(records) - saved}


def class_sheet(actor: Actor, class_id: str, term: str, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = _class(uow, class_id)
        require(decide(actor, Action.READ_CLASS, _target(uow, actor, info)))
        snapshot = build_snapshot(uow, info)
        lock = uow.term_locks.is_locked(info.id, term)
    return {
        "class": {"id": info.id, "name": info.name, "grade": info.grade, "school_year": info.school_year},
        "term": term,
        "locked": lock is not None,
        "locked_at": lock.locked_at.isoformat() if lock else None,
        "subjects": [s.model_dump(mode="json") for s in snapshot.subjects],
        # Teachers never need the personal ID, not even encrypted.
        "students": [s.model_dump(mode="json", exclude={"personal_id_enc"}) for s in snapshot.students],
        "content_hash": snapshot.content_hash,
    }


def student_results(actor: Actor, class_id: str, student_id: str, uow: GradebookUnitOfWork) -> dict[str, Any]:
    """What the homeroom teacher checks before the lock: every computed value and why (in Vietnamese)."""
    with uow:
        info = _class(uow, class_id)
        require(decide(actor, Action.READ_CLASS, _target(uow, actor, info)))
        student = next((s for s in uow.gradebook.roster(info.id) if s["id"] == student_id), None)
        if student is None:
            raise NotFound("Học sinh không thuộc lớp này.")
        results = student_computation(uow, info, student_id)
    return {
        "student_id": student_id,
        "full_name": student["full_name"],
        "averages": {f"{code}.{period}": value for (code, period), value in results.averages.items()},
        "learning_result": results.learning,
        "year": results.year,
        "explanations": results.explanations,
    }


# -- locking -----------------------------------------------------------------------------------------------------


def lock_term(cmd: LockTerm, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = _class(uow, cmd.class_id, guard="update")
        require(decide(cmd.actor, Action.LOCK_TERM, _target(uow, cmd.actor, info)))
        existing = uow.term_locks.get_for_update(info.school_id, info.id, info.school_year, cmd.term)
        lock = lock_term_rule(
            existing,
            TermLock(
                info.school_id, info.id, info.school_year, cmd.term, cmd.actor.user_id, datetime.now(UTC)
            ),
        )
        uow.term_locks.add(lock)
        snapshot = build_snapshot(uow, info)
        event = term_locked_event(info, cmd.term, lock, snapshot)
        subject_uri = f"class/{info.id}/{info.school_year}/{cmd.term}"
        uow.emit(event, subject=subject_uri)
        uow.emit(
            audit_event(
                cmd.actor,
                "term.lock",
                "class_term",
                subject_uri,
                school_id=info.school_id,
                after={"content_hash": snapshot.content_hash},
                changes={"locked": "không → có"},
            ),
            subject=subject_uri,
        )
        uow.commit()
    return {
        "class_id": info.id,
        "term": cmd.term,
        "locked_at": lock.locked_at.isoformat(),
        "content_hash": snapshot.content_hash,
        "students": len(snapshot.students),
    }


def unlock_term(cmd: UnlockTerm, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = _class(uow, cmd.class_id, guard="update")
        require(decide(cmd.actor, Action.UNLOCK_TERM, _target(uow, cmd.actor, info)))
        existing = uow.term_locks.get_for_update(info.school_id, info.id, info.school_year, cmd.term)
        if existing is None:
            raise TermNotLocked(info.id, cmd.term)
        uow.term_locks.remove(existing)
        subject_uri = f"class/{info.id}/{info.school_year}/{cmd.term}"
        uow.emit(
            audit_event(
                cmd.actor,
                "term.unlock",
                "class_term",
                subject_uri,
                school_id=info.school_id,
                reason=cmd.reason,
                changes={"locked": "có → không"},
            ),
            subject=subject_uri,
        )
        uow.commit()
    return {"class_id": info.id, "term": cmd.term, "locked": False}


# -- amendments after lock ---------------------------------------------------------------------------------------


def propose_amendment(cmd: ProposeAmendment, uow: GradebookUnitOfWork) -> dict[str, Any]:
    if len(cmd.reason.strip()) < 5:
        raise AmendmentNotAllowed("Biên bản điều chỉnh cần nêu rõ lý do.")
    with uow:
        info = _class(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.PROPOSE_AMENDMENT, _target(uow, cmd.actor, info, cmd.subject_code)))
        if cmd.subject_code is not None and not (
            (a := uow.gradebook.assignment(info.id, cmd.subject_code))
            and a["teacher_id"] == cmd.actor.user_id
        ):
            raise NotPermitted("Chỉ giáo viên dạy môn này ở lớp này được đề nghị điều chỉnh điểm môn.")
        if cmd.subject_code is None and info.homeroom_teacher_id != cmd.actor.user_id:
            raise NotPermitted("Chỉ giáo viên chủ nhiệm được đề nghị điều chỉnh nhận xét, rèn luyện.")
        if uow.term_locks.is_locked(info.id, cmd.term) is None:
            raise AmendmentNotAllowed("Học kỳ chưa khóa: hãy sửa trực tiếp trên sổ điểm, không cần biên bản.")
        if cmd.student_id not in {s["id"] for s in uow.gradebook.roster(info.id)}:
            raise MarkInvalid("student_id", "Học sinh không thuộc lớp này.")
        if cmd.subject_code is not None:
            assignment = uow.gradebook.assignment(info.id, cmd.subject_code)
            after = validate_entry(
                subject(cmd.subject_code, info.grade),
                assignment["periods_per_year"] if assignment else None,
                cmd.after,
                "after",
            ).as_dict()
            before = uow.gradebook.marks_of(info.id, cmd.subject_code, cmd.term, [cmd.student_id]).get(
                cmd.student_id
            )
        else:
            before = uow.gradebook.student_terms_of(info.id, cmd.term, [cmd.student_id]).get(cmd.student_id)
            after = {**(before or {}), **validate_homeroom(info.grade, cmd.after, "after")}
        if before == after:
            raise AmendmentNotAllowed("Giá trị đề nghị giống giá trị hiện tại.")
        amendment_id = f"bb-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        uow.gradebook.add_amendment(
            {
                "id": amendment_id,
                "school_id": info.school_id,
                "class_id": info.id,
                "student_id": cmd.student_id,
                "subject_code": cmd.subject_code,
                "term": cmd.term,
                "before": before,
                "after": after,
                "reason": cmd.reason.strip(),
                "status": "pending",
                "proposed_by": cmd.actor.user_id,
                "proposed_at": now,
            }
        )
        uow.emit(
            audit_event(
                cmd.actor,
                "amendment.propose",
                "amendment",
                amendment_id,
                school_id=info.school_id,
                before=before,
                after=after,
                reason=cmd.reason.strip(),
                amendment_id=amendment_id,
            )
        )
        uow.commit()
    return {"amendment_id": amendment_id, "status": "pending", "before": before, "after": after}


def decide_amendment(cmd: DecideAmendment, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        record = uow.gradebook.amendment_for_update(cmd.amendment_id)
        if record is None:
            raise NotFound("Không tìm thấy biên bản điều chỉnh.")
        info = _class(uow, record["class_id"], guard="update")
        require(decide(cmd.actor, Action.DECIDE_AMENDMENT, _target(uow, cmd.actor, info)))
        if record["status"] != "pending":
            raise AmendmentNotAllowed(f"Biên bản này đã được xử lý ({record['status']}).")
        now = datetime.now(UTC)
        status = "approved" if cmd.approve else "rejected"
        uow.gradebook.decide_amendment(
            cmd.amendment_id,
            status=status,
            decided_by=cmd.actor.user_id,
            decided_at=now,
            decision_note=cmd.note,
        )
        entity = _entity(info, record["student_id"], record["subject_code"], record["term"])
        if cmd.approve:
            if record["subject_code"] is not None:
                uow.gradebook.save_marks(
                    info.id,
                    record["subject_code"],
                    record["term"],
                    {record["student_id"]: record["after"]},
                    cmd.actor.user_id,
                    now,
                )
            else:
                uow.gradebook.save_student_term(
                    info.id, record["student_id"], record["term"], record["after"], cmd.actor.user_id, now
                )
            snapshot = build_snapshot(uow, info)
            uow.emit(
                AmendmentAppliedV1(
                    amendment_id=record["id"],
                    school_id=info.school_id,
                    class_id=info.id,
                    school_year=info.school_year,
                    term=record["term"],
                    student_id=record["student_id"],
                    subject_code=record["subject_code"],
                    reason=record["reason"],
                    proposed_by=record["proposed_by"],
                    approved_by=cmd.actor.user_id,
                    approved_at=now,
                    snapshot=snapshot,
                ),
                subject=f"class/{info.id}/{info.school_year}/{record['term']}",
            )
        uow.emit(
            audit_event(
                cmd.actor,
                f"amendment.{'approve' if cmd.approve else 'reject'}",
                "amendment",
                record["id"],
                school_id=info.school_id,
                reason=cmd.note,
                amendment_id=record["id"],
                changes={"status": f"pending → {status}"},
            )
        )
        if cmd.approve:
            uow.emit(
                audit_event(
                    cmd.actor,
                    "marks.amend" if record["subject_code"] else "homeroom.amend",
                    "marks" if record["subject_code"] else "student_term",
                    entity,
                    school_id=info.school_id,
                    before=record["before"],
                    after=record["after"],
                    reason=record["reason"],
                    amendment_id=record["id"],
                )
            )
        uow.commit()
    return {"amendment_id": cmd.amendment_id, "status": status}


def declare_school(
    actor: Actor, school_id: str, values: dict[str, Any], uow: GradebookUnitOfWork
) -> dict[str, Any]:
    """The platform operator (or the school's clerk) declares a school and the year open for entry."""
    if not ("operator" in actor.roles or ("staff" in actor.roles and actor.school_id == school_id)):
        raise NotPermitted("Chỉ quản trị hệ thống hoặc văn thư của trường được khai báo trường.")
    with uow:
        before = uow.gradebook.school(school_id)
        after = {"id": school_id, **values}
        uow.gradebook.upsert_school(after)
        if before != after:
            uow.emit(
                audit_event(
                    actor,
                    "school.declare",
                    "school",
                    f"school/{school_id}",
                    school_id=school_id,
                    before=before,
                    after=after,
                )
            )
        uow.commit()
    return after


def _current_classes(new_uow: Any, school_id: str) -> list[str]:
    with new_uow() as uow:
        school = uow.gradebook.school(school_id)
        if school is None:
            raise NotFound("Trường chưa được khai báo.")
        return list(uow.gradebook.school_classes(school_id, school["current_year"]))


def lock_school(actor: Actor, school_id: str, term: str, new_uow: Any) -> dict[str, Any]:
    """Lock every class of the school's current year; one transaction per class, already-locked ones skipped."""
    require(decide(actor, Action.LOCK_TERM, Target(school_id)))
    locked, skipped = [], []
    for class_id in _current_classes(new_uow, school_id):
        try:
            locked.append(lock_term(LockTerm(actor, class_id, term), new_uow())["class_id"])  # type: ignore[arg-type]
        except TermAlreadyLocked:
            skipped.append(class_id)
    return {"term": term, "locked": locked, "already_locked": skipped}


def unlock_school(actor: Actor, school_id: str, term: str, reason: str, new_uow: Any) -> dict[str, Any]:
    """Unlock every locked class of the school's current year, each in its own transaction, each audited."""
    require(decide(actor, Action.UNLOCK_TERM, Target(school_id)))
    unlocked, not_locked = [], []
    for class_id in _current_classes(new_uow, school_id):
        try:
            unlock_term(UnlockTerm(actor, class_id, term, reason), new_uow())  # type: ignore[arg-type]
            unlocked.append(class_id)
        except TermNotLocked:
            not_locked.append(class_id)
    return {"term": term, "unlocked": unlocked, "not_locked": not_locked}


def list_amendments(
    actor: Actor, school_id: str, status: str | None, uow: GradebookUnitOfWork
) -> dict[str, Any]:
    if not ({"principal", "inspector"} & actor.roles and actor.school_id == school_id):
        raise NotPermitted("Chỉ hiệu trưởng và thanh tra được xem biên bản điều chỉnh của trường.")
    with uow:
        return {"amendments": uow.gradebook.amendments_of(school_id, status)}
