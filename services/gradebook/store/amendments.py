"""Amendment records (biên bản điều chỉnh): proposed by a teacher, decided by the principal."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.gradebook.domain.model import Amendment
from services.gradebook.store.tables import amendments


class AmendmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, amendment: Amendment) -> None:
        self.session.execute(insert(amendments).values(**asdict(amendment)))

    def school_of(self, amendment_id: str) -> str | None:
        return self.session.execute(
            select(amendments.c.school_id).where(amendments.c.id == amendment_id)
        ).scalar_one_or_none()

    def get_for_update(self, amendment_id: str) -> Amendment | None:
        row = self.session.execute(
            select(amendments).where(amendments.c.id == amendment_id).with_for_update()
        ).first()
        return Amendment(**row._mapping) if row else None

    def decide(
        self,
        amendment_id: str,
        *,
        status: str,
        decided_by: str,
        decided_at: datetime,
        decision_note: str | None,
    ) -> None:
        self.session.execute(
            update(amendments)
            .where(amendments.c.id == amendment_id)
            .values(status=status, decided_by=decided_by, decided_at=decided_at, decision_note=decision_note)
        )

    def of_school(self, school_id: str, status: str | None = None) -> list[Amendment]:
        """The school's records, newest first; ``status`` keeps only pending, approved or rejected ones."""
        stmt = select(amendments).where(amendments.c.school_id == school_id)
        if status:
            stmt = stmt.where(amendments.c.status == status)
        rows = self.session.execute(stmt.order_by(amendments.c.proposed_at.desc()))
        return [Amendment(**r._mapping) for r in rows]
