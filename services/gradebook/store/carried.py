"""Terms students who joined during the year carried from their previous school: as the receiving class recorded
them, and as the sending school's gradebook handed them over to the receiving school."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.gradebook.domain.carried import CarriedTerm, HandedOverTerm
from services.gradebook.store.tables import carried_terms, handed_over_terms


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


class HandedOverTermRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, term: HandedOverTerm) -> None:
        """One row per học bạ, year and term at the receiving school: a replayed handover replaces it."""
        values = {**asdict(term), "subjects": dict(term.subjects)}
        stmt = pg_insert(handed_over_terms).values(**values)
        keys = ("school_id", "transcript_id", "school_year", "term")
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={k: stmt.excluded[k] for k in values if k not in keys},
            )
        )

    def for_students(self, school_id: str, school_year: str, moet_codes: list[str]) -> list[HandedOverTerm]:
        """The terms handed over to ``school_id`` for ``school_year`` of the students with these MOET codes."""
        if not moet_codes:
            return []
        rows = self.session.execute(
            select(handed_over_terms)
            .where(
                handed_over_terms.c.school_id == school_id,
                handed_over_terms.c.school_year == school_year,
                handed_over_terms.c.moet_code.in_(moet_codes),
            )
            .order_by(handed_over_terms.c.received_at)
        )
        return [HandedOverTerm(**r._mapping) for r in rows]
