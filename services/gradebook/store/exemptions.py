"""Exemptions (miễn học) as the principal decided them, per class, student, subject and period."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from services.gradebook.domain.exemption import Exemption
from services.gradebook.store.tables import exemptions


class ExemptionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, exemption: Exemption) -> None:
        self.session.execute(insert(exemptions).values(**asdict(exemption)))

    def of_class(self, class_id: str, student_id: str | None = None) -> list[Exemption]:
        """The class's exemptions (one student's when ``student_id`` is given), by student, subject and period."""
        stmt = select(exemptions).where(exemptions.c.class_id == class_id)
        if student_id is not None:
            stmt = stmt.where(exemptions.c.student_id == student_id)
        rows = self.session.execute(
            stmt.order_by(exemptions.c.student_id, exemptions.c.subject_code, exemptions.c.period)
        )
        return [Exemption(**r._mapping) for r in rows]

    def get(self, school_id: str, exemption_id: str) -> Exemption | None:
        """One of ``school_id``'s exemptions: another school's id finds nothing, like an unknown one."""
        row = self.session.execute(
            select(exemptions).where(exemptions.c.id == exemption_id, exemptions.c.school_id == school_id)
        ).first()
        return Exemption(**row._mapping) if row else None

    def school_of(self, exemption_id: str) -> str | None:
        return self.session.execute(
            select(exemptions.c.school_id).where(exemptions.c.id == exemption_id)
        ).scalar_one_or_none()

    def remove(self, exemption: Exemption) -> None:
        self.session.execute(
            delete(exemptions).where(
                exemptions.c.id == exemption.id, exemptions.c.school_id == exemption.school_id
            )
        )
