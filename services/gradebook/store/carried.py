"""Terms students who joined during the year carried from their previous school, per receiving class."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.gradebook.domain.carried import CarriedTerm
from services.gradebook.store.tables import carried_terms


class CarriedTermRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, carried: CarriedTerm) -> None:
        """One row per student and term in the class: entering it again replaces it (a correction)."""
        values = {**asdict(carried), "subjects": dict(carried.subjects)}
        stmt = pg_insert(carried_terms).values(**values)
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["class_id", "student_id", "term"],
                set_={k: stmt.excluded[k] for k in values if k not in ("class_id", "student_id", "term")},
            )
        )

    def of_class(self, school_id: str, class_id: str) -> list[CarriedTerm]:
        """The class's carried terms; ``school_id`` too, so a row is only ever read by its own school."""
        rows = self.session.execute(
            select(carried_terms)
            .where(carried_terms.c.school_id == school_id, carried_terms.c.class_id == class_id)
            .order_by(carried_terms.c.student_id, carried_terms.c.term)
        )
        return [CarriedTerm(**r._mapping) for r in rows]
