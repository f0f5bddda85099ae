"""The class sheet: subject marks and homeroom records, per student and term."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.gradebook.domain.model import Document, Mark, StudentTerm
from services.gradebook.store.tables import marks, student_terms


class SheetRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- subject marks ----------------------------------------------------------------------------------------
    def marks_of(
        self, class_id: str, subject_code: str, term: str, student_ids: list[str]
    ) -> dict[str, Document]:
        """Student id → stored entry, for those of ``student_ids`` that have one."""
        rows = self.session.execute(
            select(marks.c.student_id, marks.c.entry).where(
                marks.c.class_id == class_id,
                marks.c.subject_code == subject_code,
                marks.c.term == term,
                marks.c.student_id.in_(student_ids),
            )
        )
        return {r.student_id: r.entry for r in rows}

    def save_marks(
        self,
        class_id: str,
        subject_code: str,
        term: str,
        entries: dict[str, Document],
        actor_id: str,
        at: datetime,
    ) -> None:
        """Upsert a whole column of the sheet (student → entry) in one statement."""
        if not entries:
            return
        stmt = pg_insert(marks).values(
            [
                {
                    "class_id": class_id,
                    "student_id": student_id,
                    "subject_code": subject_code,
                    "term": term,
                    "entry": entry,
                    "updated_by": actor_id,
                    "updated_at": at,
                }
                for student_id, entry in entries.items()
            ]
        )
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["class_id", "student_id", "subject_code", "term"],
                set_={
                    "entry": stmt.excluded.entry,
                    "updated_by": actor_id,
                    "updated_at": at,
                    "version": marks.c.version + 1,
                },
            )
        )

    def marks_of_student(self, class_id: str, student_id: str, subject_code: str) -> dict[str, Document]:
        """Term → stored entry of one student's subject."""
        rows = self.session.execute(
            select(marks.c.term, marks.c.entry).where(
                marks.c.class_id == class_id,
                marks.c.student_id == student_id,
                marks.c.subject_code == subject_code,
            )
        )
        return {r.term: r.entry for r in rows}

    def class_marks(self, class_id: str) -> list[Mark]:
        rows = self.session.execute(
            select(marks.c.student_id, marks.c.subject_code, marks.c.term, marks.c.entry).where(
                marks.c.class_id == class_id
            )
        )
        return [Mark(r.student_id, r.subject_code, r.term, r.entry) for r in rows]

    # -- homeroom records -------------------------------------------------------------------------------------
    def homeroom_of(self, class_id: str, term: str, student_ids: list[str]) -> dict[str, Document]:
        """Student id → stored homeroom record, for those of ``student_ids`` that have one."""
        rows = self.session.execute(
            select(student_terms.c.student_id, student_terms.c.record).where(
                student_terms.c.class_id == class_id,
                student_terms.c.term == term,
                student_terms.c.student_id.in_(student_ids),
            )
        )
        return {r.student_id: r.record for r in rows}

    def save_homeroom(
        self, class_id: str, student_id: str, term: str, record: Document, actor_id: str, at: datetime
    ) -> None:
        stmt = pg_insert(student_terms).values(
            class_id=class_id,
            student_id=student_id,
            term=term,
            record=record,
            updated_by=actor_id,
            updated_at=at,
        )
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["class_id", "student_id", "term"],
                set_={
                    "record": stmt.excluded.record,
                    "updated_by": actor_id,
                    "updated_at": at,
                    "version": student_terms.c.version + 1,
                },
            )
        )

    def class_homeroom(self, class_id: str) -> list[StudentTerm]:
        rows = self.session.execute(
            select(student_terms.c.student_id, student_terms.c.term, student_terms.c.record).where(
                student_terms.c.class_id == class_id
            )
        )
        return [StudentTerm(r.student_id, r.term, r.record) for r in rows]
