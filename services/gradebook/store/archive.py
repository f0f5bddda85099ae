"""A school year's gradebook rows for the year-end archive, and putting them back into an empty deployment.

The year's classes decide everything else: their enrolments, assignments, marks, homeroom records, locks,
amendments, exemptions, awards, individual education plans and the terms students who joined during the year carried (as the school recorded
them, and as another school's gradebook handed them over for the year). The school, its teachers and the enrolled students are master data shared by years:
restored when absent, kept when a restore of another year already brought them.
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from services.gradebook.store.tables import (
    amendments,
    assignments,
    awards,
    carried_terms,
    classes,
    enrolments,
    exemptions,
    handed_over_terms,
    individual_plans,
    marks,
    schools,
    student_terms,
    students,
    teachers,
    term_locks,
)
from services.runtime.archive import Rows, any_row, fetch, restorer, values_of

# In foreign-key order; True for master data shared by school years.
TABLES: tuple[tuple[Table, bool], ...] = (
    (schools, True),
    (teachers, True),
    (students, True),
    (classes, False),
    (enrolments, False),
    (assignments, False),
    (marks, False),
    (student_terms, False),
    (term_locks, False),
    (amendments, False),
    (exemptions, False),
    (awards, False),
    (individual_plans, False),
    (carried_terms, False),
    (handed_over_terms, False),
)


def rows_for(session: Session, school_id: str, school_year: str) -> dict[str, Rows]:
    year_classes = fetch(
        session,
        select(classes).where(classes.c.school_id == school_id, classes.c.school_year == school_year),
        classes,
    )
    class_ids = values_of(year_classes, "id")
    enrolled = fetch(session, select(enrolments).where(enrolments.c.class_id.in_(class_ids)), enrolments)
    return {
        "schools": fetch(session, select(schools).where(schools.c.id == school_id), schools),
        "teachers": fetch(session, select(teachers).where(teachers.c.school_id == school_id), teachers),
        "students": fetch(
            session, select(students).where(students.c.id.in_(values_of(enrolled, "student_id"))), students
        ),
        "classes": year_classes,
        "enrolments": enrolled,
        "assignments": fetch(
            session, select(assignments).where(assignments.c.class_id.in_(class_ids)), assignments
        ),
        "marks": fetch(session, select(marks).where(marks.c.class_id.in_(class_ids)), marks),
        "student_terms": fetch(
            session, select(student_terms).where(student_terms.c.class_id.in_(class_ids)), student_terms
        ),
        "term_locks": fetch(
            session,
            select(term_locks).where(
                term_locks.c.school_id == school_id, term_locks.c.school_year == school_year
            ),
            term_locks,
        ),
        "amendments": fetch(
            session,
            select(amendments).where(
                amendments.c.school_id == school_id, amendments.c.class_id.in_(class_ids)
            ),
            amendments,
        ),
        "exemptions": fetch(
            session,
            select(exemptions).where(
                exemptions.c.school_id == school_id, exemptions.c.class_id.in_(class_ids)
            ),
            exemptions,
        ),
        "awards": fetch(
            session,
            select(awards).where(awards.c.school_id == school_id, awards.c.class_id.in_(class_ids)),
            awards,
        ),
        "individual_plans": fetch(
            session,
            select(individual_plans).where(
                individual_plans.c.school_id == school_id, individual_plans.c.class_id.in_(class_ids)
            ),
            individual_plans,
        ),
        "carried_terms": fetch(
            session,
            select(carried_terms).where(
                carried_terms.c.school_id == school_id, carried_terms.c.class_id.in_(class_ids)
            ),
            carried_terms,
        ),
        "handed_over_terms": fetch(
            session,
            select(handed_over_terms).where(
                handed_over_terms.c.school_id == school_id, handed_over_terms.c.school_year == school_year
            ),
            handed_over_terms,
        ),
    }


def held(session: Session, school_id: str, school_year: str) -> list[str]:
    """The year's tables that already hold rows of this school year here (a restore must find none)."""
    found = []
    if any_row(session, classes, classes.c.school_id == school_id, classes.c.school_year == school_year):
        found.append("classes")
    if any_row(
        session, term_locks, term_locks.c.school_id == school_id, term_locks.c.school_year == school_year
    ):
        found.append("term_locks")
    return found


restore = restorer(TABLES)
