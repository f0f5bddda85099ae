"""Reading and writing the gradebook; with tables.py, the only gradebook code that speaks SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.gradebook.domain.term_lock import TermLock
from services.gradebook.store.tables import (
    amendments,
    assignments,
    classes,
    enrolments,
    marks,
    schools,
    student_terms,
    students,
    teachers,
    term_locks,
)


class ForeignRowsSkipped(Exception):
    """An upsert met rows of another school (a race with the import's check); the transaction must roll back."""


@dataclass(frozen=True)
class ClassInfo:
    id: str
    school_id: str
    school_year: str
    name: str
    grade: int
    homeroom_teacher_id: str | None
    current_year: bool
    homeroom_teacher_name: str | None = None
    school_name: str | None = None
    school_province: str | None = None


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
        self.session.execute(insert(term_locks).values(**lock.__dict__))

    def remove(self, lock: TermLock) -> None:
        self.session.execute(
            delete(term_locks).where(
                term_locks.c.class_id == lock.class_id,
                term_locks.c.school_year == lock.school_year,
                term_locks.c.term == lock.term,
            )
        )


class GradebookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- schools and master data -------------------------------------------------------------------------------
    def school(self, school_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(schools).where(schools.c.id == school_id)).mappings().first()
        return dict(row) if row else None

    def upsert_school(self, values: dict[str, Any]) -> None:
        stmt = pg_insert(schools).values(**values)
        self.session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    def known_ids(self, school_id: str, school_year: str) -> dict[str, set[str]]:
        s = self.session
        return {
            "teachers": set(
                s.execute(select(teachers.c.id).where(teachers.c.school_id == school_id)).scalars()
            ),
            "classes": set(
                s.execute(
                    select(classes.c.id).where(
                        classes.c.school_id == school_id, classes.c.school_year == school_year
                    )
                ).scalars()
            ),
            "students": set(
                s.execute(select(students.c.id).where(students.c.school_id == school_id)).scalars()
            ),
        }

    def teacher_name(self, school_id: str, teacher_id: str) -> str | None:
        return self.session.execute(
            select(teachers.c.full_name).where(teachers.c.id == teacher_id, teachers.c.school_id == school_id)
        ).scalar_one_or_none()

    def personal_id_owners(self, school_id: str, hashes: list[str]) -> dict[str, str]:
        """Keyed hash → student id, for the hashes already used in the school."""
        rows = self.session.execute(
            select(students.c.personal_id_hash, students.c.id).where(
                students.c.school_id == school_id, students.c.personal_id_hash.in_(hashes)
            )
        )
        return {r.personal_id_hash: r.id for r in rows}

    def class_grades(self, school_id: str) -> dict[str, int]:
        rows = self.session.execute(
            select(classes.c.id, classes.c.grade).where(classes.c.school_id == school_id)
        )
        return {r.id: r.grade for r in rows}

    def add_teachers(self, school_id: str, rows: list[dict[str, Any]]) -> None:
        self._upsert(
            teachers,
            ["id"],
            [{"id": r["teacher_id"], "school_id": school_id, "full_name": r["full_name"]} for r in rows],
        )

    def add_classes(self, school_id: str, school_year: str, rows: list[dict[str, Any]]) -> None:
        self._upsert(
            classes,
            ["id"],
            [
                {
                    "id": r["class_id"],
                    "school_id": school_id,
                    "school_year": school_year,
                    "name": r["name"],
                    "grade": r["grade"],
                    "homeroom_teacher_id": r.get("homeroom_teacher_id"),
                }
                for r in rows
            ],
        )

    def add_students(self, school_id: str, rows: list[dict[str, Any]]) -> None:
        self._upsert(
            students,
            ["id"],
            [
                {
                    "id": r["student_id"],
                    "school_id": school_id,
                    "moet_code": r.get("moet_code"),
                    "full_name": r["full_name"],
                    "gender": r["gender"],
                    "birth_date": r["birth_date"],
                    "ethnicity": r.get("ethnicity"),
                    "personal_details_enc": r.get("personal_details_enc"),
                    "register_number": r.get("register_number"),
                    "personal_id_enc": r.get("personal_id_enc"),
                    "personal_id_hash": r.get("personal_id_hash"),
                }
                for r in rows
            ],
        )
        self._upsert(
            enrolments,
            ["class_id", "student_id"],
            [
                {
                    "class_id": r["class_id"],
                    "student_id": r["student_id"],
                    "roll_number": r.get("roll_number"),
                }
                for r in rows
            ],
        )

    def add_assignments(self, rows: list[dict[str, Any]]) -> None:
        self._upsert(
            assignments,
            ["class_id", "subject_code"],
            [
                {
                    "class_id": r["class_id"],
                    "subject_code": r["subject_code"],
                    "teacher_id": r["teacher_id"],
                    "periods_per_year": r.get("periods_per_year"),
                }
                for r in rows
            ],
        )

    def foreign_ids(self, kind: str, school_id: str, ids: set[str]) -> set[str]:
        """Of ``ids``, those already owned by another school (``kind``: teachers, classes or students)."""
        table = {"teachers": teachers, "classes": classes, "students": students}[kind]
        if not ids:
            return set()
        return set(
            self.session.execute(
                select(table.c.id).where(table.c.id.in_(sorted(ids)), table.c.school_id != school_id)
            ).scalars()
        )

    def _upsert(self, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = pg_insert(table).values(rows)
        columns = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        if not columns:
            self.session.execute(stmt.on_conflict_do_nothing())
            return
        if "school_id" not in table.c:
            self.session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=columns))
            return
        # A row owned by another school is never updated, so no import (not even one racing the caller's
        # foreign-id check) can move it; a skipped row fails the whole import, which the caller rolls back.
        written = self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=keys, set_=columns, where=table.c.school_id == stmt.excluded.school_id
            ).returning(*(table.c[k] for k in keys))
        ).all()
        if len(written) != len(rows):
            raise ForeignRowsSkipped(
                f"{len(rows) - len(written)} of {len(rows)} {table.name} rows belong to another school"
            )

    # -- classes ----------------------------------------------------------------------------------------------
    def class_info(self, class_id: str, *, guard: str | None = None) -> ClassInfo | None:
        """``guard``: "share" for writers, "update" for lock/unlock — they serialise on the class row."""
        stmt = (
            select(
                classes,
                schools.c.current_year,
                schools.c.name.label("school_name"),
                schools.c.province,
                teachers.c.full_name.label("homeroom_name"),
            )
            .join(schools, schools.c.id == classes.c.school_id)
            .outerjoin(teachers, teachers.c.id == classes.c.homeroom_teacher_id)
            .where(classes.c.id == class_id)
        )
        if guard == "share":
            stmt = stmt.with_for_update(read=True, of=classes)
        elif guard == "update":
            stmt = stmt.with_for_update(of=classes)
        row = self.session.execute(stmt).mappings().first()
        if row is None:
            return None
        return ClassInfo(
            row["id"],
            row["school_id"],
            row["school_year"],
            row["name"],
            row["grade"],
            row["homeroom_teacher_id"],
            row["school_year"] == row["current_year"],
            row["homeroom_name"],
            row["school_name"],
            row["province"],
        )

    def school_classes(self, school_id: str, school_year: str) -> list[str]:
        return list(
            self.session.execute(
                select(classes.c.id)
                .where(classes.c.school_id == school_id, classes.c.school_year == school_year)
                .order_by(classes.c.name)
            ).scalars()
        )

    def assignment(self, class_id: str, subject_code: str) -> dict[str, Any] | None:
        row = (
            self.session.execute(
                select(assignments, teachers.c.full_name.label("teacher_name"))
                .join(teachers, teachers.c.id == assignments.c.teacher_id)
                .where(assignments.c.class_id == class_id, assignments.c.subject_code == subject_code)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def class_assignments(self, class_id: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(assignments, teachers.c.full_name.label("teacher_name"))
            .join(teachers, teachers.c.id == assignments.c.teacher_id)
            .where(assignments.c.class_id == class_id)
            .order_by(assignments.c.subject_code)
        ).mappings()
        return [dict(r) for r in rows]

    def roster(self, class_id: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(
                students.c.id,
                students.c.moet_code,
                students.c.full_name,
                enrolments.c.roll_number,
                students.c.personal_id_enc,
                students.c.gender,
                students.c.personal_details_enc,
                students.c.register_number,
            )
            .join(enrolments, enrolments.c.student_id == students.c.id)
            .where(enrolments.c.class_id == class_id)
            .order_by(enrolments.c.roll_number.nulls_last(), students.c.full_name)
        ).mappings()
        return [dict(r) for r in rows]

    # -- the class sheet --------------------------------------------------------------------------------------
    def marks_of(
        self, class_id: str, subject_code: str, term: str, student_ids: list[str]
    ) -> dict[str, dict[str, Any]]:
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
        entries: dict[str, dict[str, Any]],
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

    def class_marks(self, class_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.session.execute(
                select(marks.c.student_id, marks.c.subject_code, marks.c.term, marks.c.entry).where(
                    marks.c.class_id == class_id
                )
            ).mappings()
        ]

    def student_terms_of(self, class_id: str, term: str, student_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = self.session.execute(
            select(student_terms.c.student_id, student_terms.c.record).where(
                student_terms.c.class_id == class_id,
                student_terms.c.term == term,
                student_terms.c.student_id.in_(student_ids),
            )
        )
        return {r.student_id: r.record for r in rows}

    def save_student_term(
        self, class_id: str, student_id: str, term: str, record: dict[str, Any], actor_id: str, at: datetime
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

    def class_student_terms(self, class_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.session.execute(
                select(student_terms.c.student_id, student_terms.c.term, student_terms.c.record).where(
                    student_terms.c.class_id == class_id
                )
            ).mappings()
        ]

    # -- amendments -------------------------------------------------------------------------------------------
    def add_amendment(self, values: dict[str, Any]) -> None:
        self.session.execute(insert(amendments).values(**values))

    def amendment_school(self, amendment_id: str) -> str | None:
        return self.session.execute(
            select(amendments.c.school_id).where(amendments.c.id == amendment_id)
        ).scalar_one_or_none()

    def amendment_for_update(self, amendment_id: str) -> dict[str, Any] | None:
        row = (
            self.session.execute(select(amendments).where(amendments.c.id == amendment_id).with_for_update())
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def decide_amendment(self, amendment_id: str, **values: Any) -> None:
        self.session.execute(update(amendments).where(amendments.c.id == amendment_id).values(**values))

    def amendments_of(self, school_id: str, status: str | None = None) -> list[dict[str, Any]]:
        cond = [amendments.c.school_id == school_id]
        if status:
            cond.append(amendments.c.status == status)
        return [
            dict(r)
            for r in self.session.execute(
                select(amendments).where(and_(*cond)).order_by(amendments.c.proposed_at.desc())
            ).mappings()
        ]
