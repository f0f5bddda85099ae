"""Term locks: which class terms the principal has locked."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from services.gradebook.domain.term_lock import TermLock
from services.gradebook.store.tables import term_locks


class TermLockRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_update(self, school_id: str, class_id: str, school_year: str, term: str) -> TermLock | None:
        row = self.session.execute(
            select(term_locks)
            .where(
                term_locks.c.school_id == school_id,
                term_locks.c.class_id == class_id,
                term_locks.c.school_year == school_year,
                term_locks.c.term == term,
            )
            .with_for_update()
        ).first()
        return TermLock(**row._mapping) if row else None

    def is_locked(self, class_id: str, term: str) -> TermLock | None:
        row = self.session.execute(
            select(term_locks).where(term_locks.c.class_id == class_id, term_locks.c.term == term)
        ).first()
        return TermLock(**row._mapping) if row else None

    def add(self, lock: TermLock) -> None:
        self.session.execute(insert(term_locks).values(**asdict(lock)))

    def remove(self, lock: TermLock) -> None:
        self.session.execute(
            delete(term_locks).where(
                term_locks.c.class_id == lock.class_id,
                term_locks.c.school_year == lock.school_year,
                term_locks.c.term == lock.term,
            )
        )
