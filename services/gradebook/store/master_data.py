"""A school's master data: the school itself and the imported teachers, classes, students and assignments.

The app turns the records domain/roster.py accepted into Teacher, SchoolClass, Student and Assignment rows; a row
owned by another school is never written (``ForeignRowsSkipped``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.gradebook.domain.errors import ForeignRowsSkipped
from services.gradebook.domain.model import Assignment, School, SchoolClass, Student, Teacher
from services.gradebook.store.tables import assignments, classes, enrolments, schools, students, teachers


class MasterDataRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- schools ---------------------------------------------------------------------------------------------
    def school(self, school_id: str) -> School | None:
        row = self.session.execute(select(schools).where(schools.c.id == school_id)).first()
        return School(**row._mapping) if row else None

    def upsert_school(self, school: School) -> None:
        values = asdict(school)
        stmt = pg_insert(schools).values(**values)
        self.session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    # -- imports: teachers, classes, students and assignments -------------------------------------------------
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

    def add_teachers(self, school_id: str, rows: list[Teacher]) -> None:
        self._upsert(
            teachers,
            ["id"],
            [{"id": t.id, "school_id": school_id, "full_name": t.full_name} for t in rows],
        )

    def add_classes(self, school_id: str, school_year: str, rows: list[SchoolClass]) -> None:
        self._upsert(
            classes,
            ["id"],
            [
                {
                    "id": c.id,
                    "school_id": school_id,
                    "school_year": school_year,
                    "name": c.name,
                    "grade": c.grade,
                    "homeroom_teacher_id": c.homeroom_teacher_id,
                }
                for c in rows
            ],
        )

    def add_students(self, school_id: str, rows: list[Student]) -> None:
        """The students and their enrolments (in ``Student.class_id``, with the roll number)."""
        self._upsert(
            students,
            ["id"],
            [
                {
                    "id": s.id,
                    "school_id": school_id,
                    "moet_code": s.moet_code,
                    "full_name": s.full_name,
                    "gender": s.gender,
                    "birth_date": s.birth_date,
                    "ethnicity": s.ethnicity,
                    "personal_details_enc": s.personal_details_enc,
                    "register_number": s.register_number,
                    "personal_id_enc": s.personal_id_enc,
                    "personal_id_hash": s.personal_id_hash,
                }
                for s in rows
            ],
        )
        self._upsert(
            enrolments,
            ["class_id", "student_id"],
            [{"class_id": s.class_id, "student_id": s.id, "roll_number": s.roll_number} for s in rows],
        )

    def add_assignments(self, rows: list[Assignment]) -> None:
        self._upsert(
            assignments,
            ["class_id", "subject_code"],
            [
                {
                    "class_id": a.class_id,
                    "subject_code": a.subject_code,
                    "teacher_id": a.teacher_id,
                    "periods_per_year": a.periods_per_year,
                }
                for a in rows
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

    def _upsert(self, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
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
