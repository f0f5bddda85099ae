"""A class as the gradebook's rules see it: the class row with its school, roster and subject assignments."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.gradebook.domain.model import Assignment, ClassInfo, EnrolledStudent
from services.gradebook.store.tables import assignments, classes, enrolments, schools, students, teachers

# "share" for writers, "update" for lock/unlock: they serialise on the class row.
Guard = Literal["share", "update"]


class ClassRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _queue_for(self, class_id: str, guard: Guard) -> None:
        """Wait in line for the class, until the transaction ends: writers together, a lock or unlock alone.

        The row lock alone is not fair: PostgreSQL lets a new FOR SHARE past a FOR UPDATE that is already waiting,
        so while teachers keep saving marks the principal's lock waits for as long as they do (measured: 3.5 s
        behind six writers on a loaded machine, and the lock-race test's request timed out at 30 s). Its lock
        manager queues advisory locks in arrival order instead: a writer that comes after a waiting lock waits
        behind it. Every guarded path takes this first and the row lock after, so the two cannot deadlock.
        """
        take = func.pg_advisory_xact_lock_shared if guard == "share" else func.pg_advisory_xact_lock
        self.session.execute(select(take(func.hashtextextended(f"gradebook.class:{class_id}", 0))))

    def info(self, class_id: str, *, guard: Guard | None = None) -> ClassInfo | None:
        """The class with its school's name and open year and its homeroom teacher's name; ``guard`` locks the
        class row (see ``Guard``)."""
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
        if guard is not None:
            self._queue_for(class_id, guard)
        if guard == "share":
            stmt = stmt.with_for_update(read=True, of=classes)
        elif guard == "update":
            stmt = stmt.with_for_update(of=classes)
        row = self.session.execute(stmt).first()
        if row is None:
            return None
        return ClassInfo(
            id=row.id,
            school_id=row.school_id,
            school_year=row.school_year,
            name=row.name,
            grade=row.grade,
            homeroom_teacher_id=row.homeroom_teacher_id,
            current_year=row.school_year == row.current_year,
            homeroom_teacher_name=row.homeroom_name,
            school_name=row.school_name,
            school_province=row.province,
        )

    def of_school(self, school_id: str, school_year: str) -> list[str]:
        """Ids of the school's classes of ``school_year``, by name."""
        return list(
            self.session.execute(
                select(classes.c.id)
                .where(classes.c.school_id == school_id, classes.c.school_year == school_year)
                .order_by(classes.c.name)
            ).scalars()
        )

    def current_class_of(self, school_id: str, student_id: str) -> str | None:
        """The class ``school_id``'s student is enrolled in for the school's open year (None: none, or not its
        student)."""
        return self.session.execute(
            select(classes.c.id)
            .join(enrolments, enrolments.c.class_id == classes.c.id)
            .join(schools, schools.c.id == classes.c.school_id)
            .where(
                classes.c.school_id == school_id,
                enrolments.c.student_id == student_id,
                classes.c.school_year == schools.c.current_year,
            )
            .limit(1)
        ).scalar_one_or_none()

    def assignment(self, class_id: str, subject_code: str) -> Assignment | None:
        row = self.session.execute(
            select(assignments, teachers.c.full_name.label("teacher_name"))
            .join(teachers, teachers.c.id == assignments.c.teacher_id)
            .where(assignments.c.class_id == class_id, assignments.c.subject_code == subject_code)
        ).first()
        return Assignment(**row._mapping) if row else None

    def assignments(self, class_id: str) -> list[Assignment]:
        """The class's subjects with their teachers, by subject code."""
        rows = self.session.execute(
            select(assignments, teachers.c.full_name.label("teacher_name"))
            .join(teachers, teachers.c.id == assignments.c.teacher_id)
            .where(assignments.c.class_id == class_id)
            .order_by(assignments.c.subject_code)
        )
        return [Assignment(**r._mapping) for r in rows]

    def roster(self, class_id: str) -> list[EnrolledStudent]:
        """The enrolled students by roll number (unnumbered last), then name."""
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
        )
        return [EnrolledStudent(**r._mapping) for r in rows]
