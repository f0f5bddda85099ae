"""Amendments after a term is locked: the teacher proposes (biên bản), the principal approves or rejects."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction, amendment_entity_id
from contracts.gradebook import AmendmentAppliedV1
from services.gradebook.app.audit import audit_change
from services.gradebook.app.awards import revoke_unfit
from services.gradebook.app.handlers import AMENDMENT_NOT_FOUND, class_or_404, entity_of, require, target_of
from services.gradebook.app.snapshot import build_snapshot, student_computation
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.commands import DecideAmendment, ProposeAmendment
from services.gradebook.domain.curriculum import subject
from services.gradebook.domain.cutoff import ReportingCalendar, reporting_path
from services.gradebook.domain.errors import AmendmentNotAllowed, NotFound
from services.gradebook.domain.individual_plan import check_entry, plan_subjects
from services.gradebook.domain.marks import MarkInvalid, validate_entry, validate_homeroom
from services.gradebook.domain.model import Amendment, ClassInfo
from services.gradebook.domain.permissions import Action, Actor, Target, decide


def _still_amendable(
    uow: GradebookUnitOfWork, info: ClassInfo, student_id: str, calendar: ReportingCalendar
) -> None:
    """The student's record must not be effective yet: its path (from the year's results) gives its cutoff."""
    year = student_computation(uow, info, student_id).year
    calendar.check_amendable(info.school_year, reporting_path(year))


def propose_amendment(
    cmd: ProposeAmendment, uow: GradebookUnitOfWork, calendar: ReportingCalendar
) -> dict[str, Any]:
    if len(cmd.reason.strip()) < 5:
        raise AmendmentNotAllowed("Biên bản điều chỉnh cần nêu rõ lý do.")
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="share")
        # A subject's marks by its teacher in this class, the homeroom record by the homeroom teacher.
        require(
            decide(cmd.actor, Action.PROPOSE_AMENDMENT, target_of(uow, cmd.actor, info, cmd.subject_code))
        )
        if uow.term_locks.is_locked(info.id, cmd.term) is None:
            raise AmendmentNotAllowed("Học kỳ chưa khóa: hãy sửa trực tiếp trên sổ điểm, không cần biên bản.")
        if cmd.student_id not in {s.id for s in uow.classes.roster(info.id)}:
            raise MarkInvalid("student_id", "Học sinh không thuộc lớp này.")
        _still_amendable(uow, info, cmd.student_id, calendar)
        if cmd.subject_code is not None:
            assignment = uow.classes.assignment(info.id, cmd.subject_code)
            after = validate_entry(
                subject(cmd.subject_code, info.grade),
                assignment.periods_per_year if assignment else None,
                cmd.after,
                "after",
                info.grade,
            ).as_dict()
            if cmd.subject_code in plan_subjects(uow.plans.of_class(info.id, cmd.student_id)).get(
                cmd.student_id, ()
            ):
                refused = check_entry(after, subject_name=subject(cmd.subject_code, info.grade).name)
                if refused is not None:
                    raise MarkInvalid("after.comment", refused)
            before = uow.sheet.marks_of(info.id, cmd.subject_code, cmd.term, [cmd.student_id]).get(
                cmd.student_id
            )
        else:
            before = uow.sheet.homeroom_of(info.id, cmd.term, [cmd.student_id]).get(cmd.student_id)
            after = {**(before or {}), **validate_homeroom(info.grade, cmd.after, "after")}
        if before == after:
            raise AmendmentNotAllowed("Giá trị đề nghị giống giá trị hiện tại.")
        amendment_id = f"bb-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        uow.amendments.add(
            Amendment(
                id=amendment_id,
                school_id=info.school_id,
                class_id=info.id,
                student_id=cmd.student_id,
                subject_code=cmd.subject_code,
                term=cmd.term,
                before=before,
                after=after,
                reason=cmd.reason.strip(),
                status="pending",
                proposed_by=cmd.actor.user_id,
                proposed_at=now,
            )
        )
        # Under the value's own entity id, so the audit log can show the request in the value's history.
        audit_change(
            uow,
            cmd.actor,
            AuditAction.AMENDMENT_PROPOSE,
            amendment_entity_id(entity_of(info, cmd.student_id, cmd.subject_code, cmd.term), amendment_id),
            school_id=info.school_id,
            before=before,
            after=after,
            reason=cmd.reason.strip(),
            amendment_id=amendment_id,
        )
        uow.commit()
    return {"amendment_id": amendment_id, "status": "pending", "before": before, "after": after}


def decide_amendment(
    cmd: DecideAmendment, uow: GradebookUnitOfWork, calendar: ReportingCalendar
) -> dict[str, Any]:
    with uow:
        record = uow.amendments.get_for_update(cmd.amendment_id)
        if record is None:
            raise NotFound(AMENDMENT_NOT_FOUND)
        info = class_or_404(uow, record.class_id, guard="update")
        require(decide(cmd.actor, Action.DECIDE_AMENDMENT, target_of(uow, cmd.actor, info)))
        if record.status != "pending":
            raise AmendmentNotAllowed(f"Biên bản này đã được xử lý ({record.status}).")
        if (
            cmd.approve
        ):  # proposed in time is not enough: approving after the cutoff would be refused upstream
            _still_amendable(uow, info, record.student_id, calendar)
        now = datetime.now(UTC)
        status = "approved" if cmd.approve else "rejected"
        uow.amendments.decide(
            cmd.amendment_id,
            status=status,
            decided_by=cmd.actor.user_id,
            decided_at=now,
            decision_note=cmd.note,
        )
        entity = entity_of(info, record.student_id, record.subject_code, record.term)
        revoked_awards: list[str] = []
        if cmd.approve:
            if record.subject_code is not None:
                uow.sheet.save_marks(
                    info.id,
                    record.subject_code,
                    record.term,
                    {record.student_id: record.after},
                    cmd.actor.user_id,
                    now,
                )
            else:
                uow.sheet.save_homeroom(
                    info.id, record.student_id, record.term, record.after, cmd.actor.user_id, now
                )
            revoked_awards = revoke_unfit(uow, cmd.actor, info, record.student_id, record.id)
            snapshot = build_snapshot(uow, info)
            uow.emit(
                AmendmentAppliedV1(
                    amendment_id=record.id,
                    school_id=info.school_id,
                    class_id=info.id,
                    school_year=info.school_year,
                    term=record.term,
                    student_id=record.student_id,
                    subject_code=record.subject_code,
                    reason=record.reason,
                    proposed_by=record.proposed_by,
                    approved_by=cmd.actor.user_id,
                    approved_at=now,
                    snapshot=snapshot,
                ),
                subject=f"class/{info.id}/{info.school_year}/{record.term}",
            )
        audit_change(
            uow,
            cmd.actor,
            AuditAction.AMENDMENT_APPROVE if cmd.approve else AuditAction.AMENDMENT_REJECT,
            amendment_entity_id(entity, record.id),
            school_id=info.school_id,
            reason=cmd.note,
            amendment_id=record.id,
            changes={"status": f"pending → {status}"},
        )
        if cmd.approve:
            audit_change(
                uow,
                cmd.actor,
                AuditAction.MARKS_AMEND if record.subject_code else AuditAction.HOMEROOM_AMEND,
                entity,
                school_id=info.school_id,
                before=record.before,
                after=record.after,
                reason=record.reason,
                amendment_id=record.id,
            )
        uow.commit()
    answer: dict[str, Any] = {"amendment_id": cmd.amendment_id, "status": status}
    if cmd.approve:
        # The titles the amended results no longer allow (awards.py revoke_unfit).
        answer["awards_revoked"] = revoked_awards
    return answer


def list_amendments(
    actor: Actor, school_id: str, status: str | None, uow: GradebookUnitOfWork
) -> dict[str, Any]:
    require(decide(actor, Action.READ_AMENDMENTS, Target(school_id)))
    with uow:
        records = uow.amendments.of_school(school_id, status)
    # The response lists each record's fields in the table's order (the dataclass's): clients read it as is.
    return {"amendments": [asdict(r) for r in records]}
