"""The gradebook's records as the app layer reads them: the store maps SQL rows to these, nothing here knows SQL.

Frozen and slotted: a row read in a transaction is a fact of that transaction, not something to edit in place.
JSON documents kept as JSONB (a mark entry, a homeroom record, an amendment's before/after) stay plain dicts:
their shape is checked where they are written (domain/marks.py), and they travel to events and hashes as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# One cell of the class sheet (domain/marks.py MarkEntry.as_dict) or a homeroom record, as stored.
Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class School:
    """A school and the school year open for entry. Field order is the PUT /schools body's (it is echoed back)."""

    id: str
    name: str
    level: str
    province: str | None
    district: str | None
    current_year: str


@dataclass(frozen=True, slots=True)
class Teacher:
    """A teacher of a school, as imported. The id equals the teacher's JWT subject."""

    id: str
    full_name: str


@dataclass(frozen=True, slots=True)
class SchoolClass:
    """A class as imported into the school year open for entry."""

    id: str
    name: str
    grade: int
    homeroom_teacher_id: str | None = None


@dataclass(frozen=True, slots=True)
class Student:
    """A student as imported, with the class it is enrolled in; personal data already sealed (app/master_data.py)."""

    id: str
    class_id: str
    full_name: str
    gender: str
    birth_date: date
    roll_number: int | None = None
    moet_code: str | None = None
    ethnicity: str | None = None
    register_number: str | None = None
    personal_details_enc: bytes | None = None
    personal_id_enc: bytes | None = None
    personal_id_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """A class of one school year, with what the rules need of its school and its homeroom teacher."""

    id: str
    school_id: str
    school_year: str
    name: str
    grade: int
    homeroom_teacher_id: str | None
    # The class belongs to the school year currently open for entry.
    current_year: bool
    homeroom_teacher_name: str | None = None
    school_name: str | None = None
    school_province: str | None = None


@dataclass(frozen=True, slots=True)
class EnrolledStudent:
    """A student on a class's roster: the student row with the roll number of the enrolment.

    The personal ID and the birth details arrive sealed (AES-GCM, services/runtime/data_key.py); the gradebook
    never opens them, it passes them on in the snapshot.
    """

    id: str
    moet_code: str | None
    full_name: str
    roll_number: int | None
    personal_id_enc: bytes | None
    gender: str
    personal_details_enc: bytes | None
    register_number: str | None


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who teaches a subject in a class, and how many periods a year (it decides the regular assessments)."""

    class_id: str
    subject_code: str
    teacher_id: str
    periods_per_year: int | None
    teacher_name: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """One student's entry for one subject and term on the class sheet."""

    student_id: str
    subject_code: str
    term: str
    entry: Document


@dataclass(frozen=True, slots=True)
class StudentTerm:
    """One student's homeroom record for a term: conduct, qualities, competencies, absences, comment."""

    student_id: str
    term: str
    record: Document


@dataclass(frozen=True, slots=True)
class Amendment:
    """A biên bản điều chỉnh: a change to a locked term, proposed by a teacher and decided by the principal.

    Field order is the table's: GET /schools/{id}/amendments lists records as these fields, in this order.
    """

    id: str
    school_id: str
    class_id: str
    student_id: str
    # None for a homeroom record.
    subject_code: str | None
    term: str
    before: Document | None
    after: Document
    reason: str
    status: str  # pending, approved, rejected
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
