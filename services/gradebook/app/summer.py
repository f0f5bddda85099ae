"""Summer-stage use cases (TT22 art. 12–14): re-test results and the conduct after summer training, entered after
the year's lock for the students the year sent there; the principal's summer lock republishes the year's snapshot
with the results after the summer beside the year-end ones, so their year records get a new version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction
from services.gradebook.app.audit import audit_change
from services.gradebook.app.handlers import (
    announce_lock,
    class_or_404,
    entity_of,
    require,
    save_changed_marks,
    target_of,
)
from services.gradebook.app.snapshot import build_snapshot, class_computation, term_locked_event
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.commands import LockSummer, RecordRetests, RecordSummerConduct
from services.gradebook.domain.curriculum import circular_of_grade, subject
from services.gradebook.domain.marks import MarkInvalid
from services.gradebook.domain.model import ClassInfo, Document
from services.gradebook.domain.permissions import Action, decide
from services.gradebook.domain.results import StudentResults
from services.gradebook.domain.summer import (
    SUMMER,
    SummerIncomplete,
    SummerLocked,
    SummerNotOpen,
    not_due_retest,
    not_due_training,
    refuse_primary,
    retest_result,
    summer_conduct,
    summer_gaps,
)
from services.gradebook.domain.term_lock import LockReasonRequired, TermLock

NOT_IN_CLASS = "Học sinh không thuộc lớp này."


def _open(uow: GradebookUnitOfWork, info: ClassInfo) -> None:
    """The summer stage is open between the year's lock (term II) and the principal's summer lock."""
    refuse_primary(circular_of_grade(info.grade) == "tt27")
    if uow.term_locks.is_locked(info.id, "hk2") is None:
        raise SummerNotOpen(
            f"Học kỳ II của lớp {info.name} chưa khóa: kết quả kiểm tra lại và rèn luyện hè chỉ nhập sau khi "
            "hiệu trưởng khóa năm học."
        )
    if uow.term_locks.is_locked(info.id, SUMMER) is not None:
        raise SummerLocked(
            f"Kết quả sau kiểm tra lại, rèn luyện hè của lớp {info.name} đã khóa. Mọi thay đổi cần biên bản "
            "điều chỉnh được hiệu trưởng phê duyệt."
        )


def _students(uow: GradebookUnitOfWork, info: ClassInfo) -> dict[str, tuple[str, StudentResults]]:
    """Student id → (name, results): the year-end decision says who owes what over the summer."""
    computed = class_computation(uow, info)
    return {s.id: (s.full_name, computed[s.id]) for s in uow.classes.roster(info.id)}


def record_retests(cmd: RecordRetests, uow: GradebookUnitOfWork) -> dict[str, int]:
    with uow:
        # Share-lock the class row like every writer: the summer lock (FOR UPDATE) waits for us or we for it.
        info = class_or_404(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.WRITE_MARKS, target_of(uow, cmd.actor, info, cmd.subject_code)))
        _open(uow, info)
        subj = subject(cmd.subject_code, info.grade)
        students = _students(uow, info)
        entries: dict[str, Document] = {}
        for i, raw in enumerate(cmd.entries):
            student_id = raw.get("student_id")
            if student_id not in students:
                raise MarkInvalid(f"entries[{i}].student_id", NOT_IN_CLASS)
            name, results = students[student_id]
            if cmd.subject_code not in results.retest_subjects:
                raise not_due_retest(name, subj, f"entries[{i}].student_id")
            entries[student_id] = {"retest": retest_result(subj, raw.get("result"), f"entries[{i}].result")}
        saved = save_changed_marks(uow, cmd.actor, info, cmd.subject_code, SUMMER, entries)
        uow.commit()
    return saved


def record_summer_conduct(cmd: RecordSummerConduct, uow: GradebookUnitOfWork) -> dict[str, int]:
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.WRITE_HOMEROOM, target_of(uow, cmd.actor, info)))
        _open(uow, info)
        students = _students(uow, info)
        records: dict[str, Document] = {}
        for i, raw in enumerate(cmd.entries):
            student_id = raw.get("student_id")
            if student_id not in students:
                raise MarkInvalid(f"entries[{i}].student_id", NOT_IN_CLASS)
            name, results = students[student_id]
            if not results.summer_training:
                raise not_due_training(name, f"entries[{i}].student_id")
            records[student_id] = {"conduct": summer_conduct(raw.get("conduct"), f"entries[{i}].conduct")}
        before = uow.sheet.homeroom_of(info.id, SUMMER, list(records))
        now, saved = datetime.now(UTC), 0
        for student_id, record in records.items():
            if before.get(student_id) == record:
                continue
            uow.sheet.save_homeroom(info.id, student_id, SUMMER, record, cmd.actor.user_id, now)
            audit_change(
                uow,
                cmd.actor,
                AuditAction.HOMEROOM_RECORD,
                entity_of(info, student_id, None, SUMMER),
                school_id=info.school_id,
                before=before.get(student_id),
                after=record,
            )
            saved += 1
        uow.commit()
    return {"saved": saved, "unchanged": len(records) - saved}


def lock_summer(cmd: LockSummer, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="update")
        require(decide(cmd.actor, Action.LOCK_TERM, target_of(uow, cmd.actor, info)))
        _open(uow, info)
        lock = TermLock(
            info.school_id, info.id, info.school_year, SUMMER, cmd.actor.user_id, datetime.now(UTC)
        )
        students = _students(uow, info)
        retests: dict[str, dict[str, Any]] = {}
        for mark in uow.sheet.class_marks(info.id):
            if mark.term == SUMMER:
                retests.setdefault(mark.student_id, {})[mark.subject_code] = mark.entry
        conducts = uow.sheet.homeroom_of(info.id, SUMMER, list(students))
        names = {
            a.subject_code: subject(a.subject_code, info.grade).name for a in uow.classes.assignments(info.id)
        }
        missing = summer_gaps(
            ((sid, name, r.retest_subjects, r.summer_training) for sid, (name, r) in students.items()),
            retests,
            conducts,
            names,
        )
        refused = [m for m in missing if m.student_id not in cmd.incomplete_accepted]
        if refused:
            raise SummerIncomplete(info.id, refused)
        accepted = [m for m in missing if m.student_id in cmd.incomplete_accepted]
        if accepted and not cmd.reason:
            raise LockReasonRequired()
        uow.term_locks.add(lock)
        snapshot = build_snapshot(uow, info)
        # The year's snapshot again (term II), now with the results after the summer: the transcript builds a new
        # version of each record that changed, and leaves the others as they are (same content, same hash).
        event = term_locked_event(
            info,
            "hk2",
            lock,
            snapshot,
            uow.master_data.teacher_name(info.school_id, cmd.actor.user_id),
            summer=True,
        )
        announce_lock(uow, cmd.actor, info, SUMMER, event, snapshot.content_hash, accepted, cmd.reason)
        uow.commit()
    after = {sid: r for sid, (_, r) in students.items() if r.retest_subjects or r.summer_training}
    recomputed = {s.student_id: s.year for s in snapshot.students if s.student_id in after}
    return {
        "class_id": info.id,
        "locked_at": lock.locked_at.isoformat(),
        "content_hash": snapshot.content_hash,
        "incomplete_accepted": [
            {"student_id": m.student_id, "student": m.student, "result": m.result} for m in accepted
        ],
        "students": [
            {
                "student_id": sid,
                "promotion": year.get("promotion"),
                "promotion_after_retest": year.get("promotion_after_retest"),
                "reporting_path": year.get("reporting_path"),
            }
            for sid, year in recomputed.items()
        ],
    }
