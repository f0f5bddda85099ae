"""The receiving school records the term a student who joined during the year studied at the previous school.

Entered by the school office or the principal from the handed-over record (domain/carried.py says why, and what is
carried); audited with its source; the class's results, snapshot and year lock read it from then on (snapshot.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction, carried_term_entity_id
from services.gradebook.app.audit import audit_change
from services.gradebook.app.handlers import class_or_404, require, target_of
from services.gradebook.app.snapshot import student_computation
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.carried import (
    CARRIED_TERMS,
    CarriedTerm,
    CarriedTermInvalid,
    checked_subjects,
)
from services.gradebook.domain.commands import RecordCarriedTerm
from services.gradebook.domain.curriculum import circular_of_grade, subject
from services.gradebook.domain.errors import NotFound, TermIsLocked
from services.gradebook.domain.permissions import Action, decide

STUDENT_NOT_IN_CLASS = "Học sinh không thuộc lớp này."
TERM_NOT_CARRIED = "Chỉ ghi được kết quả học kỳ I mang từ trường cũ (học sinh chuyển đến trong học kỳ II)."


def record_carried_term(cmd: RecordCarriedTerm, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        # Share-lock the class row like every writer: the year's lock waits for it, or it for the lock.
        info = class_or_404(uow, cmd.class_id, guard="share")
        require(decide(cmd.actor, Action.RECORD_CARRIED_TERM, target_of(uow, cmd.actor, info)))
        if cmd.term not in CARRIED_TERMS:
            raise NotFound(TERM_NOT_CARRIED)
        # The student is looked up in this class only: another school's student id is unknown here.
        if not any(s.id == cmd.student_id for s in uow.classes.roster(info.id)):
            raise NotFound(STUDENT_NOT_IN_CLASS)
        if uow.term_locks.is_locked(info.id, "hk2") is not None:
            raise TermIsLocked(
                f"Năm học của lớp {info.name} đã khóa (học kỳ II): kết quả mang từ trường cũ được ghi trước khi "
                "khóa. Để thay đổi, hiệu trưởng mở khóa học kỳ II (có lý do, được ghi nhật ký), ghi lại rồi khóa lại."
            )
        if cmd.from_school_id == info.school_id:
            raise CarriedTermInvalid(
                "Trường chuyển đi phải là trường khác: kết quả của trường này được nhập theo từng môn.",
                log="carried term from the receiving school itself",
            )
        taught = {}
        for a in uow.classes.assignments(info.id):
            known = subject(a.subject_code, info.grade)
            taught[a.subject_code] = (known.name, known.assessment)
        carried = CarriedTerm(
            school_id=info.school_id,
            class_id=info.id,
            student_id=cmd.student_id,
            term=cmd.term,
            from_school_id=cmd.from_school_id,
            from_school_name=cmd.from_school_name,
            subjects=checked_subjects(cmd.subjects, taught, circular_of_grade(info.grade)),
            conduct=cmd.conduct,
            absences=cmd.absences,
            source=cmd.source,
            recorded_by=cmd.actor.user_id,
            recorded_at=datetime.now(UTC),
        )
        before = next(
            (
                c
                for c in uow.carried.of_class(info.school_id, info.id)
                if c.student_id == cmd.student_id and c.term == cmd.term
            ),
            None,
        )
        uow.carried.save(carried)
        audit_change(
            uow,
            cmd.actor,
            AuditAction.CARRIED_TERM_RECORD,
            carried_term_entity_id(class_id=info.id, student_id=cmd.student_id, term=cmd.term),
            school_id=info.school_id,
            before=None if before is None else _content(before),
            after=_content(carried),
            reason=cmd.source,
        )
        results = student_computation(uow, info, cmd.student_id)
        uow.commit()
    return shown(carried) | {
        "averages": {f"{code}.{period}": value for (code, period), value in results.averages.items()},
        "learning_result": results.learning,
        "year": results.year,
        "explanations": results.explanations,
    }


def _content(carried: CarriedTerm) -> dict[str, Any]:
    """What the audit hashes and summarises: the carried values and whose they are (no personal data)."""
    return {
        "from_school_id": carried.from_school_id,
        "from_school_name": carried.from_school_name,
        **{f"{code}": value for code, value in sorted(carried.subjects.items())},
        "conduct": carried.conduct,
        "absences": carried.absences,
    }


def shown(carried: CarriedTerm) -> dict[str, Any]:
    out = asdict(carried)
    out["subjects"] = dict(carried.subjects)
    out["recorded_at"] = carried.recorded_at.isoformat() if carried.recorded_at else None
    return out
