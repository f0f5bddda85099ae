"""Awards (khen thưởng) as the principal decided them, one title per student and school year."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from services.gradebook.domain.award import Award
from services.gradebook.store.tables import awards


class AwardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, award: Award) -> None:
        self.session.execute(insert(awards).values(**asdict(award)))

    def of_class(self, class_id: str, student_id: str | None = None) -> list[Award]:
        """The class's awards (one student's when ``student_id`` is given), by student."""
        stmt = select(awards).where(awards.c.class_id == class_id)
        if student_id is not None:
            stmt = stmt.where(awards.c.student_id == student_id)
        rows = self.session.execute(stmt.order_by(awards.c.student_id, awards.c.decided_at))
        return [Award(**r._mapping) for r in rows]

    def get(self, school_id: str, award_id: str) -> Award | None:
        """One of ``school_id``'s awards: another school's id finds nothing, like an unknown one."""
        row = self.session.execute(
            select(awards).where(awards.c.id == award_id, awards.c.school_id == school_id)
        ).first()
        return Award(**row._mapping) if row else None

    def school_of(self, award_id: str) -> str | None:
        return self.session.execute(
            select(awards.c.school_id).where(awards.c.id == award_id)
        ).scalar_one_or_none()

    def remove(self, award: Award) -> None:
        self.session.execute(
            delete(awards).where(awards.c.id == award.id, awards.c.school_id == award.school_id)
        )
