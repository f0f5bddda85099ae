"""Gradebook use cases: one function per command, each in one unit of work (state + outbox in one commit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction, class_term_id, value_id
from contracts.gradebook import ClassSnapshot
from services.gradebook.app.audit import audit_change
from services.gradebook.app.snapshot import build_snapshot, student_computation, term_locked_event
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.award import AwardNoLongerFits
from services.gradebook.domain.award import refusal as award_refusal
from services.gradebook.domain.commands import (
    LockTerm,
    RecordHomeroom,
    RecordMarks,
    UnlockTerm,
)
from services.gradebook.domain.curriculum import circular_of_grade, subject
from services.gradebook.domain.errors import NotFound, NotPermitted, TermIsLocked
from services.gradebook.domain.exemption import exempt_terms
from services.gradebook.domain.individual_plan import check_entry, plan_gaps, plan_subjects
from services.gradebook.domain.marks import MarkInvalid, validate_entry, validate_homeroom
from services.gradebook.domain.model import ClassInfo, Document
from services.gradebook.domain.permissions import Action, Actor, Decision, Target, admit, decide
from services.gradebook.domain.summer import SUMMER, SummerLocked
from services.gradebook.domain.term_lock import (
    LockReasonRequired,
    Term,
    TermAlreadyLocked,
    TermLock,
    TermNotLocked,
    YearIncomplete,
    term_label,
    year_gaps,
)
from services.gradebook.domain.term_lock import lock_term as lock_term_rule
from services.gradebook.store.classes import Guard

SCHOOL_NOT_FOUND = "Không tìm thấy trường này."
CLASS_NOT_FOUND = "Không tìm thấy lớp này."
AMENDMENT_NOT_FOUND = "Không tìm thấy biên bản điều chỉnh."


def require(decision: Decision, *, not_found: str = CLASS_NOT_FOUND) -> None:
    """Enforce a decision of domain/permissions.py: hidden answers 404 (``not_found``), refused 403."""
    if decision.hidden:
        raise NotFound(not_found)
    if not decision.allowed:
        raise NotPermitted(decision.reason_vi)


def admit_school(actor: Actor, school_id: str, roles: tuple[str, ...]) -> None:
    """Before the body is read: another school's id is answered like an unknown one (404), then the role (403)."""
    require(admit(actor, school_id, roles), not_found=SCHOOL_NOT_FOUND)


def admit_class(actor: Actor, class_id: str, roles: tuple[str, ...], uow: GradebookUnitOfWork) -> None:
    """Before the body is read: an unknown class and another school's class get the same 404 (an operator's too:
    operators read no school's marks), then the role."""
    with uow:
        info = uow.classes.info(class_id)
    require(admit(actor, info.school_id if info else None, roles), not_found=CLASS_NOT_FOUND)


def admit_amendment(
    actor: Actor, amendment_id: str, roles: tuple[str, ...], uow: GradebookUnitOfWork
) -> None:
    with uow:
        school_id = uow.amendments.school_of(amendment_id)
    require(admit(actor, school_id, roles), not_found=AMENDMENT_NOT_FOUND)


def admit_exemption(
    actor: Actor, exemption_id: str, roles: tuple[str, ...], uow: GradebookUnitOfWork
) -> None:
    with uow:
        school_id = uow.exemptions.school_of(exemption_id)
    require(admit(actor, school_id, roles), not_found="Không tìm thấy quyết định miễn học này.")


def admit_award(actor: Actor, award_id: str, roles: tuple[str, ...], uow: GradebookUnitOfWork) -> None:
    with uow:
        school_id = uow.awards.school_of(award_id)
    require(admit(actor, school_id, roles), not_found="Không tìm thấy quyết định khen thưởng này.")


def admit_plan(actor: Actor, plan_id: str, roles: tuple[str, ...], uow: GradebookUnitOfWork) -> None:
    with uow:
        school_id = uow.plans.school_of(plan_id)
    require(admit(actor, school_id, roles), not_found="Không tìm thấy kế hoạch giáo dục cá nhân này.")


def class_or_404(uow: GradebookUnitOfWork, class_id: str, guard: Guard | None = None) -> ClassInfo:
    info = uow.classes.info(class_id, guard=guard)
    if info is None:
        raise NotFound(CLASS_NOT_FOUND)
    return info


def target_of(
    uow: GradebookUnitOfWork, actor: Actor, info: ClassInfo, subject_code: str | None = None
) -> Target:
    """What a decision needs to know about ``info`` (and the subject, if the action concerns one)."""
    assigned = False
    if subject_code is not None:
        assignment = uow.classes.assignment(info.id, subject_code)
        assigned = assignment is not None and assignment.teacher_id == actor.user_id
    else:
        assigned = any(a.teacher_id == actor.user_id for a in uow.classes.assignments(info.id))
    return Target(
        info.school_id,
        assigned=assigned,
        homeroom=info.homeroom_teacher_id == actor.user_id,
        current_year=info.current_year,
        of_subject=subject_code is not None,
    )


def refuse_if_locked(uow: GradebookUnitOfWork, info: ClassInfo, term: str) -> None:
    lock = uow.term_locks.is_locked(info.id, term)
    if lock is not None:
        raise TermIsLocked(
            f"Học kỳ {term_label(term)} của lớp {info.name} đã khóa. Mọi thay đổi cần biên bản điều chỉnh "
            "được hiệu trưởng phê duyệt."
        )


def entity_of(info: ClassInfo, student_id: str, subject_code: str | None, term: str) -> str:
    """The audit id of one grade value of ``info``'s class (the homeroom record when ``subject_code`` is None)."""
    return value_id(class_id=info.id, student_id=student_id, subject=subject_code, term=term)


# -- the class sheet ---------------------------------------------------------------------------------------------


def record_marks(cmd: RecordMarks, uow: GradebookUnitOfWork) -> dict[str, int]:
    with uow:
        # Share-lock the class row: a concurrent lock_term (FOR UPDATE) waits for us or we wait for it, so no
        # value can change after the lock's snapshot.
        info = class_or_404(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.WRITE_MARKS, target_of(uow, cmd.actor, info, cmd.subject_code)))
        refuse_if_locked(uow, info, cmd.term)
        assignment = uow.classes.assignment(info.id, cmd.subject_code)
        assert assignment is not None  # the permission check needs it
        subj = subject(cmd.subject_code, info.grade)
        enrolled = {s.id for s in uow.classes.roster(info.id)}
        exempt = exempt_terms(uow.exemptions.of_class(info.id))
        planned = plan_subjects(uow.plans.of_class(info.id))
        entries: dict[str, Document] = {}
        for i, raw in enumerate(cmd.entries):
            raw = dict(raw)
            student_id = raw.pop("student_id", None)
            if student_id not in enrolled:
                raise MarkInvalid(f"entries[{i}].student_id", "Học sinh không thuộc lớp này.")
            if cmd.term in exempt.get(student_id, {}).get(cmd.subject_code, frozenset()):
                raise MarkInvalid(
                    f"entries[{i}].student_id",
                    f"Học sinh được miễn học môn này trong học kỳ {term_label(cmd.term)} theo quyết định của "
                    "hiệu trưởng: không nhập điểm.",
                )
            entries[student_id] = validate_entry(
                subj, assignment.periods_per_year, raw, f"entries[{i}]", info.grade
            ).as_dict()
            if cmd.subject_code in planned.get(student_id, ()):
                refused = check_entry(entries[student_id], subject_name=subj.name)
                if refused is not None:
                    raise MarkInvalid(f"entries[{i}].comment", refused)
        saved = save_changed_marks(uow, cmd.actor, info, cmd.subject_code, cmd.term, entries)
        uow.commit()
    return saved


def save_changed_marks(
    uow: GradebookUnitOfWork,
    actor: Actor,
    info: ClassInfo,
    subject_code: str,
    stage: str,
    entries: dict[str, Any],
) -> dict[str, int]:
    """Store the entries that differ from what is stored (a term's marks, or the summer's re-tests), each change
    audited; the counts the API answers with."""
    before = uow.sheet.marks_of(info.id, subject_code, stage, list(entries))
    changed = {sid: entry for sid, entry in entries.items() if before.get(sid) != entry}
    uow.sheet.save_marks(info.id, subject_code, stage, changed, actor.user_id, datetime.now(UTC))
    for student_id, entry in changed.items():
        audit_change(
            uow,
            actor,
            AuditAction.MARKS_RECORD,
            entity_of(info, student_id, subject_code, stage),
            school_id=info.school_id,
            before=before.get(student_id),
            after=entry,
        )
    return {"saved": len(changed), "unchanged": len(entries) - len(changed)}


def record_homeroom(cmd: RecordHomeroom, uow: GradebookUnitOfWork) -> dict[str, int]:
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.WRITE_HOMEROOM, target_of(uow, cmd.actor, info)))
        refuse_if_locked(uow, info, cmd.term)
        enrolled = {s.id for s in uow.classes.roster(info.id)}
        records: dict[str, Document] = {}
        for i, raw in enumerate(cmd.entries):
            raw = dict(raw)
            student_id = raw.pop("student_id", None)
            if student_id not in enrolled:
                raise MarkInvalid(f"entries[{i}].student_id", "Học sinh không thuộc lớp này.")
            records[student_id] = validate_homeroom(info.grade, raw, f"entries[{i}]")
        before = uow.sheet.homeroom_of(info.id, cmd.term, list(records))
        now = datetime.now(UTC)
        saved = 0
        for student_id, new in records.items():
            merged = {**(before.get(student_id) or {}), **new}
            if merged == before.get(student_id):
                continue
            uow.sheet.save_homeroom(info.id, student_id, cmd.term, merged, cmd.actor.user_id, now)
            audit_change(
                uow,
                cmd.actor,
                AuditAction.HOMEROOM_RECORD,
                entity_of(info, student_id, None, cmd.term),
                school_id=info.school_id,
                before=before.get(student_id),
                after=merged,
            )
            saved += 1
        uow.commit()
    return {"saved": saved, "unchanged": len(records) - saved}


def class_sheet(actor: Actor, class_id: str, term: str, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_or_404(uow, class_id)
        require(decide(actor, Action.READ_CLASS, target_of(uow, actor, info)))
        snapshot = build_snapshot(uow, info)
        lock = uow.term_locks.is_locked(info.id, term)
    return {
        "class": {"id": info.id, "name": info.name, "grade": info.grade, "school_year": info.school_year},
        "term": term,
        "locked": lock is not None,
        "locked_at": lock.locked_at.isoformat() if lock else None,
        "subjects": [s.model_dump(mode="json") for s in snapshot.subjects],
        # Teachers never need the personal ID, the birth date or place, not even encrypted.
        "students": [
            s.model_dump(mode="json", exclude={"personal_id_enc", "personal_details_enc"})
            for s in snapshot.students
        ],
        "content_hash": snapshot.content_hash,
    }


def student_results(actor: Actor, class_id: str, student_id: str, uow: GradebookUnitOfWork) -> dict[str, Any]:
    """What the homeroom teacher checks before the lock: every computed value and why (in Vietnamese)."""
    with uow:
        info = class_or_404(uow, class_id)
        require(decide(actor, Action.READ_CLASS, target_of(uow, actor, info)))
        student = next((s for s in uow.classes.roster(info.id) if s.id == student_id), None)
        if student is None:
            raise NotFound("Học sinh không thuộc lớp này.")
        results = student_computation(uow, info, student_id)
    return {
        "student_id": student_id,
        "full_name": student.full_name,
        "averages": {f"{code}.{period}": value for (code, period), value in results.averages.items()},
        "learning_result": results.learning,
        "year": results.year,
        "explanations": results.explanations,
    }


# -- locking -----------------------------------------------------------------------------------------------------


def lock_term(cmd: LockTerm, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="update")
        require(decide(cmd.actor, Action.LOCK_TERM, target_of(uow, cmd.actor, info)))
        existing = uow.term_locks.get_for_update(info.school_id, info.id, info.school_year, cmd.term)
        lock = lock_term_rule(
            existing,
            TermLock(
                info.school_id, info.id, info.school_year, cmd.term, cmd.actor.user_id, datetime.now(UTC)
            ),
        )
        uow.term_locks.add(lock)
        snapshot = build_snapshot(uow, info)
        if cmd.term == "hk2":
            missing = year_gaps(
                (
                    (s.student_id, s.full_name, {r.subject_code: r.year for r in s.subjects}, s.year)
                    for s in snapshot.students
                ),
                {t.subject_code: t.subject_name for t in snapshot.subjects},
                primary=circular_of_grade(info.grade) == "tt27",
            ) + plan_gaps(_plan_terms(snapshot))
            refused = [m for m in missing if m.student_id not in cmd.incomplete_accepted]
            if refused:
                raise YearIncomplete(info.id, refused)
            accepted = [m for m in missing if m.student_id in cmd.incomplete_accepted]
            if accepted and not cmd.reason:
                raise LockReasonRequired()
            # Marks may have changed since an award was decided: the sealed year never prints one it disallows.
            unfit = [
                (s.full_name, a.title, why)
                for s in snapshot.students
                for a in s.awards or ()
                if (why := award_refusal(a.kind, circular_of_grade(info.grade), s.year)) is not None
            ]
            if unfit:
                raise AwardNoLongerFits(info.id, unfit)
        else:
            accepted = []
        event = term_locked_event(
            info, cmd.term, lock, snapshot, uow.master_data.teacher_name(info.school_id, cmd.actor.user_id)
        )
        announce_lock(uow, cmd.actor, info, cmd.term, event, snapshot.content_hash, accepted, cmd.reason)
        uow.commit()
    return {
        "class_id": info.id,
        "term": cmd.term,
        "incomplete_accepted": [
            {"student_id": m.student_id, "student": m.student, "result": m.result} for m in accepted
        ],
        "locked_at": lock.locked_at.isoformat(),
        "content_hash": snapshot.content_hash,
        "students": len(snapshot.students),
    }


def announce_lock(
    uow: GradebookUnitOfWork,
    actor: Actor,
    info: ClassInfo,
    stage: str,
    event: Any,
    content_hash: str,
    accepted: list[Any],
    reason: str | None,
) -> None:
    """A lock's event for the other services and its audit entries: the lock itself, and each missing result the
    principal accepted, as its own fact with who accepted it and why (term locks and the summer lock alike)."""
    subject_uri = class_term_id(class_id=info.id, school_year=info.school_year, term=stage)
    uow.emit(event, subject=subject_uri)
    audit_change(
        uow,
        actor,
        AuditAction.TERM_LOCK,
        subject_uri,
        school_id=info.school_id,
        after={"content_hash": content_hash},
        changes={"locked": "không → có"},
        subject=subject_uri,
    )
    for gap in accepted:
        audit_change(
            uow,
            actor,
            AuditAction.TERM_LOCK,
            value_id(class_id=info.id, student_id=gap.student_id, subject=None, term=stage),
            school_id=info.school_id,
            after={"incomplete_accepted": gap.result},
            changes={"khóa khi thiếu kết quả": gap.result},
            reason=reason,
            subject=subject_uri,
        )


def unlock_term(cmd: UnlockTerm, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="update")
        require(decide(cmd.actor, Action.UNLOCK_TERM, target_of(uow, cmd.actor, info)))
        existing = uow.term_locks.get_for_update(info.school_id, info.id, info.school_year, cmd.term)
        if existing is None:
            raise TermNotLocked(info.id, cmd.term)
        if cmd.term == "hk2" and uow.term_locks.is_locked(info.id, SUMMER) is not None:
            # The summer lock closed the year for good (its records went out on the supplementary path).
            raise SummerLocked(
                f"Kết quả sau kiểm tra lại, rèn luyện hè của lớp {info.name} đã khóa: không mở khóa học kỳ II được "
                "nữa. Mọi thay đổi cần biên bản điều chỉnh được hiệu trưởng phê duyệt."
            )
        uow.term_locks.remove(existing)
        subject_uri = class_term_id(class_id=info.id, school_year=info.school_year, term=cmd.term)
        audit_change(
            uow,
            cmd.actor,
            AuditAction.TERM_UNLOCK,
            subject_uri,
            school_id=info.school_id,
            reason=cmd.reason,
            changes={"locked": "có → không"},
            subject=subject_uri,
        )
        uow.commit()
    return {"class_id": info.id, "term": cmd.term, "locked": False}


def _current_classes(new_uow: Callable[[], GradebookUnitOfWork], school_id: str) -> list[str]:
    with new_uow() as uow:
        school = uow.master_data.school(school_id)
        if school is None:
            raise NotFound(SCHOOL_NOT_FOUND)
        return uow.classes.of_school(school_id, school.current_year)


def lock_school(
    actor: Actor, school_id: str, term: Term, new_uow: Callable[[], GradebookUnitOfWork]
) -> dict[str, Any]:
    """Lock every class of the school's current year; one transaction per class, already-locked ones skipped."""
    require(decide(actor, Action.LOCK_TERM, Target(school_id)))
    locked, skipped, incomplete, unfit = [], [], [], []
    for class_id in _current_classes(new_uow, school_id):
        try:
            locked.append(lock_term(LockTerm(actor, class_id, term), new_uow())["class_id"])
        except TermAlreadyLocked:
            skipped.append(class_id)
        except YearIncomplete as gaps:  # the other classes still lock; this one says what it lacks
            incomplete.append({"class_id": class_id, "missing": gaps.problem_extensions()["missing"]})
        except AwardNoLongerFits as awards:  # likewise: the award the principal must revoke first
            unfit.append({"class_id": class_id, **awards.problem_extensions()})
    return {
        "term": term,
        "locked": locked,
        "already_locked": skipped,
        "incomplete": incomplete,
        "awards_unfit": unfit,
    }


def unlock_school(
    actor: Actor, school_id: str, term: Term, reason: str, new_uow: Callable[[], GradebookUnitOfWork]
) -> dict[str, Any]:
    """Unlock every locked class of the school's current year, each in its own transaction, each audited."""
    require(decide(actor, Action.UNLOCK_TERM, Target(school_id)))
    unlocked, not_locked, summer_locked = [], [], []
    for class_id in _current_classes(new_uow, school_id):
        try:
            unlock_term(UnlockTerm(actor, class_id, term, reason), new_uow())
            unlocked.append(class_id)
        except TermNotLocked:
            not_locked.append(class_id)
        except SummerLocked:  # the other classes still unlock; this one's year is closed by its summer lock
            summer_locked.append(class_id)
    return {"term": term, "unlocked": unlocked, "not_locked": not_locked, "summer_locked": summer_locked}


def _plan_terms(
    snapshot: ClassSnapshot,
) -> list[tuple[str, str, list[tuple[str, str, str, dict[str, Any]]]]]:
    """Each student's terms of the subjects their individual education plan names, for ``plan_gaps``."""
    names = {t.subject_code: t.subject_name for t in snapshot.subjects}
    return [
        (
            s.student_id,
            s.full_name,
            [
                (r.subject_code, names.get(r.subject_code, r.subject_code), term, marks.model_dump())
                for r in s.subjects
                if r.individual_plan
                for term, marks in (("hk1", r.hk1), ("hk2", r.hk2))
                if marks is not None
                and marks.assessed_by is None  # another school's term is not ours to judge
            ],
        )
        for s in snapshot.students
    ]
