"""Summer-stage use cases: after the year's lock, for the students the year sent there, the re-test results and the
conduct after summer training (TT22 art. 12–14), or a primary pupil's supplementary assessment (TT27 art. 11: a
subject's new level and test, the qualities and competencies re-assessed; supplementary.py); the principal's summer
lock republishes the year's snapshot with the results after the summer beside the year-end ones, so their year
records get a new version. One stage, one lock, the same endpoints for both circulars: the entries differ."""

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
from services.gradebook.domain import supplementary
from services.gradebook.domain.commands import LockSummer, RecordRetests, RecordSummerConduct
from services.gradebook.domain.curriculum import circular_of_grade, subject
from services.gradebook.domain.cutoff import ReportingCalendar
from services.gradebook.domain.marks import MarkInvalid
from services.gradebook.domain.model import ClassInfo, Document
from services.gradebook.domain.permissions import Action, Actor, decide
from services.gradebook.domain.results import StudentResults
from services.gradebook.domain.summer import (
    SUMMER,
    SummerIncomplete,
    SummerLocked,
    SummerNotOpen,
    not_due_retest,
    not_due_training,
    retest_result,
    summer_conduct,
    summer_gaps,
)
from services.gradebook.domain.term_lock import LockReasonRequired, TermLock

NOT_IN_CLASS = "Học sinh không thuộc lớp này."


def _open(uow: GradebookUnitOfWork, info: ClassInfo) -> None:
    """The summer stage is open between the year's lock (term II) and the principal's summer lock."""
    if uow.term_locks.is_locked(info.id, "hk2") is None:
        what = "đánh giá bổ sung" if _primary(info) else "kết quả kiểm tra lại và rèn luyện hè"
        raise SummerNotOpen(
            f"Học kỳ II của lớp {info.name} chưa khóa: {what} chỉ nhập sau khi hiệu trưởng khóa năm học."
        )
    if uow.term_locks.is_locked(info.id, SUMMER) is not None:
        raise SummerLocked(
            f"Kết quả sau kiểm tra lại, rèn luyện hè của lớp {info.name} đã khóa. Mọi thay đổi cần biên bản "
            "điều chỉnh được hiệu trưởng phê duyệt."
        )


def _primary(info: ClassInfo) -> bool:
    return circular_of_grade(info.grade) == "tt27"


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
            if _primary(info):
                # TT27 art. 11: a subject the pupil's year left below Hoàn thành, its new level and test.
                if cmd.subject_code not in results.retest_subjects:
                    raise supplementary.not_due_subject(name, subj.name, f"entries[{i}].student_id")
                entries[student_id] = supplementary.subject_entry(
                    subj.code, subj.name, info.grade, raw, f"entries[{i}]"
                )
                continue
            if raw.get("test") is not None:
                raise MarkInvalid(
                    f"entries[{i}].test", "Kiểm tra lại (Thông tư 22) chỉ nhập một kết quả: “result”."
                )
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
        entered: dict[str, Document] = {}
        for i, raw in enumerate(cmd.entries):
            student_id = raw.get("student_id")
            if student_id not in students:
                raise MarkInvalid(f"entries[{i}].student_id", NOT_IN_CLASS)
            name, results = students[student_id]
            if _primary(info):
                # TT27 art. 11: the qualities and competencies at Cần cố gắng, re-assessed by the homeroom teacher.
                if not (results.retest_subjects or results.reassess_traits):
                    raise supplementary.not_due_pupil(name, f"entries[{i}].student_id")
                entered[student_id] = supplementary.trait_entry(
                    info.grade, raw, results.reassess_traits, name, f"entries[{i}]"
                )
                continue
            if raw.get("qualities") is not None or raw.get("competencies") is not None:
                raise MarkInvalid(
                    f"entries[{i}]",
                    "Học sinh THCS, THPT: nhập kết quả rèn luyện sau rèn luyện hè (“conduct”).",
                )
            if not results.summer_training:
                raise not_due_training(name, f"entries[{i}].student_id")
            entered[student_id] = {"conduct": summer_conduct(raw.get("conduct"), f"entries[{i}].conduct")}
        before = uow.sheet.homeroom_of(info.id, SUMMER, list(entered))
        # A primary pupil's qualities and competencies may come in several requests: each adds to what is stored.
        records = {
            sid: _merged(before.get(sid), record) if _primary(info) else record
            for sid, record in entered.items()
        }
        now, saved = datetime.now(UTC), 0
        for student_id, record in records.items():
            if before.get(student_id) == record:
                continue
            _save_summer_record(uow, cmd.actor, info, student_id, before.get(student_id), record, now)
            saved += 1
        uow.commit()
    return {"saved": saved, "unchanged": len(records) - saved}


def _save_summer_record(
    uow: GradebookUnitOfWork,
    actor: Actor,
    info: ClassInfo,
    student_id: str,
    before: Document | None,
    record: Document,
    now: datetime,
    reason: str | None = None,
) -> None:
    """The student's summer homeroom record stored, and the change written to the audit log."""
    uow.sheet.save_homeroom(info.id, student_id, SUMMER, record, actor.user_id, now)
    audit_change(
        uow,
        actor,
        AuditAction.HOMEROOM_RECORD,
        entity_of(info, student_id, None, SUMMER),
        school_id=info.school_id,
        before=before,
        after=record,
        reason=reason,
    )


def _merged(stored: Document | None, new: Document) -> Document:
    out = dict(stored or {})
    for group, values in new.items():
        out[group] = {**(out.get(group) or {}), **values}
    return out


def lock_summer(
    cmd: LockSummer, uow: GradebookUnitOfWork, calendar: ReportingCalendar | None = None
) -> dict[str, Any]:
    with uow:
        info = class_or_404(uow, cmd.class_id, guard="update")
        require(decide(cmd.actor, Action.LOCK_TERM, target_of(uow, cmd.actor, info)))
        _open(uow, info)
        if calendar is not None:
            calendar.check_summer_lock(info.school_year, info.grade)
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
        if _primary(info):
            owed = {
                sid: supplementary.Due(r.retest_subjects, r.reassess_traits)
                for sid, (_, r) in students.items()
            }
            missing = supplementary.gaps(
                ((sid, name, owed[sid]) for sid, (name, _) in students.items()), retests, conducts, names
            )
            _decide(uow, cmd, info, {sid: (students[sid][0], o) for sid, o in owed.items()}, conducts)
        else:
            if cmd.promoted:
                raise MarkInvalid("promoted", PROMOTED_PRIMARY_ONLY)
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
        recomputed_after = {s.student_id: s.year for s in snapshot.students}
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
    after = {
        sid for sid, (_, r) in students.items() if r.retest_subjects or r.summer_training or r.reassess_traits
    }
    keys = (
        (
            "year_result",
            "completion",
            "year_result_after_supplementary",
            "completion_after_supplementary",
            "promotion_after_supplementary",
            "reporting_path",
        )
        if _primary(info)
        else ("promotion", "promotion_after_retest", "reporting_path")
    )
    return {
        "class_id": info.id,
        "locked_at": lock.locked_at.isoformat(),
        "content_hash": snapshot.content_hash,
        "incomplete_accepted": [
            {"student_id": m.student_id, "student": m.student, "result": m.result} for m in accepted
        ],
        "students": [
            {"student_id": sid, **{k: year.get(k) for k in keys}}
            for sid, year in recomputed_after.items()
            if sid in after
        ],
    }


PROMOTED_PRIMARY_ONLY = (
    "Hiệu trưởng quyết định lên lớp cho học sinh chưa hoàn thành chương trình lớp học chỉ ở tiểu học, lớp 1–4 "
    "(khoản 3 Điều 11 Thông tư 27)."
)


def _decide(
    uow: GradebookUnitOfWork,
    cmd: LockSummer,
    info: ClassInfo,
    owed: dict[str, tuple[str, supplementary.Due]],
    stored: dict[str, Document],
) -> None:
    """TT27 art. 11 §3: the principal's decision for every pupil the year left not complete — lên lớp for those
    ``cmd.promoted`` names (grades 1–4 only), otherwise what the supplementary assessment decided — written on their
    summer record (audited), so the recomputation and the record carry a decision for each, re-assessed or not."""
    if cmd.promoted and not cmd.reason:
        raise MarkInvalid(
            "reason", "Hãy ghi lý do hiệu trưởng quyết định cho học sinh lên lớp (khoản 3 Điều 11)."
        )
    for student_id in sorted(cmd.promoted):
        if student_id not in owed:
            raise MarkInvalid("promoted", NOT_IN_CLASS)
        name, due = owed[student_id]
        if info.grade >= 5:
            raise MarkInvalid(
                "promoted",
                f"Học sinh {name}: lớp 5 chưa hoàn thành chương trình tiểu học thì không lên lớp 6 (Điều 11).",
            )
        if not due:
            raise MarkInvalid(
                "promoted", f"Học sinh {name} không thuộc diện chưa hoàn thành chương trình lớp học."
            )
    for student_id, (_, due) in owed.items():
        if not due:
            continue
        before = stored.get(student_id)
        record = {**(before or {}), supplementary.PROMOTED_BY_PRINCIPAL: student_id in cmd.promoted}
        _save_summer_record(uow, cmd.actor, info, student_id, before, record, datetime.now(UTC), cmd.reason)
