"""The sending school's gradebook hands over the term a transferred student studied there during the year.

On sync's ``TranscriptTransferredV1`` (the sending principal approved the transfer and the province handed the học
bạ over): the student's locked term I of the sending school's open year, as that lock froze it, is kept for the
receiving school (domain/carried.py says what and why). Both schools' logs record the handover.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.audit import AuditAction, handed_over_term_entity_id
from contracts.sync import TranscriptTransferredV1
from services.gradebook.app.snapshot import student_computation
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.carried import HandedOverTerm, hands_over
from services.gradebook.domain.curriculum import circular_of_grade
from services.gradebook.domain.term_lock import content_hash
from services.gradebook.domain.year import EXEMPT

CONSUMER = "gradebook.handover"
TERM = "hk1"


def hand_over_term(event: TranscriptTransferredV1, uow: GradebookUnitOfWork) -> bool:
    """True when a term was handed over; nothing for a student the sending school does not hold in its open year,
    a term not locked, a year already locked (a year-end transfer) or a primary pupil.

    The student is looked up at ``event.from_school`` only: the event's ids never reach another school's rows.
    """
    if event.student_id is None:  # from a sync that predates it
        return False
    class_id = uow.classes.current_class_of(event.from_school, event.student_id)
    info = uow.classes.info(class_id) if class_id else None
    if info is None or circular_of_grade(info.grade) != "tt22":
        return False
    lock = uow.term_locks.is_locked(info.id, TERM)
    year_locked = uow.term_locks.is_locked(info.id, "hk2") is not None
    if not hands_over(lock is not None, year_locked) or lock is None:
        return False
    student = next(s for s in uow.classes.roster(info.id) if s.id == event.student_id)
    results = student_computation(uow, info, student.id)
    subjects = {
        a.subject_code: value
        for a in uow.classes.assignments(info.id)
        # An exempt term is the sending principal's decision: the receiving principal decides their own.
        if (value := results.average(a.subject_code, TERM)) is not None and value != EXEMPT
    }
    record = uow.sheet.homeroom_of(info.id, TERM, [student.id]).get(student.id) or {}
    term = HandedOverTerm(
        school_id=event.to_school,
        transcript_id=event.transcript_id,
        school_year=info.school_year,
        term=TERM,
        moet_code=student.moet_code,
        from_school_id=info.school_id,
        from_school_name=info.school_name or info.school_id,
        subjects=subjects,
        conduct=record.get("conduct"),
        absences=record.get("absences"),
        locked_at=lock.locked_at,
        received_at=datetime.now(UTC),
    )
    uow.handed_over.save(term)
    handed = {"subjects": dict(subjects), "conduct": term.conduct, "absences": term.absences}
    for school_id in (event.from_school, event.to_school):
        uow.audit(
            AuditAction.CARRIED_TERM_HAND_OVER,
            entity=handed_over_term_entity_id(
                transcript_id=event.transcript_id, school_year=info.school_year, term=TERM
            ),
            actor="gradebook",
            role="system",
            school_id=school_id,
            after_hash=content_hash(handed),
            changes={"from_school": event.from_school, "to_school": event.to_school, "term": TERM},
            subject=event.transcript_id,
        )
    return True
