"""Gradebook use cases: one function per command."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.audit import AuditRecordedV1
from contracts.gradebook import ClassSnapshot, TermLockedV1
from services.gradebook.app.unit_of_work import SERVICE, GradebookUnitOfWork
from services.gradebook.domain.commands import LockTerm
from services.gradebook.domain.term_lock import TermLock, content_hash
from services.gradebook.domain.term_lock import lock_term as lock_term_rule


def lock_term(cmd: LockTerm, uow: GradebookUnitOfWork) -> TermLockedV1:
    """Lock a class's term and announce the frozen snapshot, all in one transaction."""
    with uow:
        existing = uow.term_locks.get_for_update(cmd.school_id, cmd.class_id, cmd.school_year, cmd.term)
        lock = lock_term_rule(
            existing,
            TermLock(cmd.school_id, cmd.class_id, cmd.school_year, cmd.term, cmd.actor_id, datetime.now(UTC)),
        )
        uow.term_locks.add(lock)
        # Until master data and scores exist (gradebook issue), the snapshot is the class with no students.
        students: list = []
        subjects: list = []
        event = TermLockedV1(
            school_id=cmd.school_id,
            class_id=cmd.class_id,
            class_name=cmd.class_name,
            grade=cmd.grade,
            school_year=cmd.school_year,
            term=cmd.term,
            circular="tt27" if cmd.grade <= 5 else "tt22",
            locked_by=cmd.actor_id,
            locked_at=lock.locked_at,
            snapshot=ClassSnapshot(
                students=students, subjects=subjects, content_hash=content_hash([students, subjects])
            ),
        )
        subject = f"class/{cmd.class_id}/{cmd.school_year}/{cmd.term}"
        uow.emit(event, subject=subject)
        uow.emit(
            AuditRecordedV1(
                service=SERVICE,
                school_id=cmd.school_id,
                actor_id=cmd.actor_id,
                actor_role="principal",
                action="term.lock",
                entity_type="class_term",
                entity_id=subject,
                before_hash=None,
                after_hash=event.snapshot.content_hash,
                changes={"locked": "không → có"},
                occurred_at=lock.locked_at,
            ),
            subject=subject,
        )
        uow.commit()
    return event
