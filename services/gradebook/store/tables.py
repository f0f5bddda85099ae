"""Gradebook tables: master data per school, the class sheet, term locks, amendment records, exemptions, awards and
the terms students who joined during the year carried from their previous school."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.runtime.db import new_metadata
from services.runtime.tables import runtime_tables

metadata = new_metadata()
outbox, inbox = runtime_tables(metadata)

term_locks = Table(
    "term_locks",
    metadata,
    Column("school_id", String(64), nullable=False),
    Column("class_id", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("term", String(6), nullable=False, comment="hk1, hk2 or summer (re-test, summer training)"),
    Column("locked_by", String(64), nullable=False),
    Column("locked_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("school_id", "class_id", "school_year", "term"),
)

schools = Table(
    "schools",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("province", String(100), nullable=True),
    Column("district", String(100), nullable=True),
    Column("current_year", String(9), nullable=False, comment="School year open for entry, e.g. 2025-2026"),
)

teachers = Table(
    "teachers",
    metadata,
    Column("id", String(64), primary_key=True, comment="Opaque id; equals the JWT subject of the teacher"),
    Column("school_id", String(64), ForeignKey("schools.id"), nullable=False, index=True),
    Column("full_name", String(200), nullable=False),
)

classes = Table(
    "classes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), ForeignKey("schools.id"), nullable=False, index=True),
    Column("school_year", String(9), nullable=False),
    Column("name", String(32), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("homeroom_teacher_id", String(64), ForeignKey("teachers.id"), nullable=True),
    UniqueConstraint("school_id", "school_year", "name", name="uq_classes_school_year_name"),
)

students = Table(
    "students",
    metadata,
    Column("id", String(64), primary_key=True, comment="Opaque id, never the personal identification number"),
    Column("school_id", String(64), ForeignKey("schools.id"), nullable=False, index=True),
    Column("moet_code", String(64), nullable=True, comment="Ministry student code, opaque"),
    Column("full_name", String(200), nullable=False),
    Column("gender", String(8), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("ethnicity", String(64), nullable=True),
    Column(
        "personal_details_enc",
        LargeBinary,
        nullable=True,
        comment="Date and place of birth, ethnicity (JSON) for the học bạ, AES-GCM encrypted",
    ),
    Column("register_number", String(32), nullable=True, comment="Số đăng bộ in the school's register"),
    Column("personal_id_enc", LargeBinary, nullable=True, comment="12-digit personal ID, AES-GCM encrypted"),
    Column("personal_id_hash", String(64), nullable=True, comment="Keyed hash, for lookups"),
    Column(
        "lifelong_record_no", String(64), nullable=True, comment="Decree 88/2026 lifelong learning record"
    ),
    # One person, one student row per school; a transfer creates a row in the new school.
    UniqueConstraint("school_id", "personal_id_hash", name="uq_students_school_personal_id"),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("class_id", String(64), ForeignKey("classes.id"), nullable=False),
    Column("student_id", String(64), ForeignKey("students.id"), nullable=False, index=True),
    Column("roll_number", Integer, nullable=True),
    PrimaryKeyConstraint("class_id", "student_id"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("class_id", String(64), ForeignKey("classes.id"), nullable=False),
    Column("subject_code", String(32), nullable=False),
    Column("teacher_id", String(64), ForeignKey("teachers.id"), nullable=False, index=True),
    Column("periods_per_year", Integer, nullable=True, comment="Decides the number of regular assessments"),
    PrimaryKeyConstraint("class_id", "subject_code"),
)

marks = Table(
    "marks",
    metadata,
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("subject_code", String(32), nullable=False),
    Column("term", String(6), nullable=False, comment="hk1, hk2 or summer (re-test, summer training)"),
    Column(
        "entry", JSONB, nullable=False, comment="regular/midterm/final or result or level/test, and comment"
    ),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("class_id", "student_id", "subject_code", "term"),
    ForeignKeyConstraint(["class_id", "student_id"], ["enrolments.class_id", "enrolments.student_id"]),
    ForeignKeyConstraint(["class_id", "subject_code"], ["assignments.class_id", "assignments.subject_code"]),
)

student_terms = Table(
    "student_terms",
    metadata,
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("term", String(6), nullable=False, comment="hk1, hk2 or summer (re-test, summer training)"),
    Column(
        "record",
        JSONB,
        nullable=False,
        comment="conduct, qualities, competencies, absences, homeroom comment",
    ),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("class_id", "student_id", "term"),
    ForeignKeyConstraint(["class_id", "student_id"], ["enrolments.class_id", "enrolments.student_id"]),
)

amendments = Table(
    "amendments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("subject_code", String(32), nullable=True, comment="Null for a homeroom record"),
    Column("term", String(3), nullable=False),
    Column("before", JSONB, nullable=True),
    Column("after", JSONB, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False, comment="pending, approved, rejected"),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_note", Text, nullable=True),
)

exemptions = Table(
    "exemptions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("subject_code", String(32), nullable=False),
    Column("period", String(4), nullable=False, comment="hk1, hk2 or year (both terms)"),
    Column("reason", Text, nullable=False, comment="The principal's decision, as stated"),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("class_id", "student_id", "subject_code", "period", name="uq_exemptions_period"),
    ForeignKeyConstraint(["class_id", "student_id"], ["enrolments.class_id", "enrolments.student_id"]),
    ForeignKeyConstraint(["class_id", "subject_code"], ["assignments.class_id", "assignments.subject_code"]),
)

awards = Table(
    "awards",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False, comment="xuat_sac, gioi (TT22) or tieu_bieu (TT27)"),
    Column("reason", Text, nullable=False, comment="The principal's decision and its grounds, as stated"),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    # One title per student and school year (a class belongs to one year).
    UniqueConstraint("class_id", "student_id", name="uq_awards_student"),
    ForeignKeyConstraint(["class_id", "student_id"], ["enrolments.class_id", "enrolments.student_id"]),
)

carried_terms = Table(
    "carried_terms",
    metadata,
    Column("school_id", String(64), nullable=False, index=True, comment="The receiving school (the tenant)"),
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("term", String(3), nullable=False, comment="The term studied at the previous school: hk1"),
    Column("from_school_id", String(64), nullable=False, comment="The sending school, as the papers name it"),
    Column("from_school_name", Text, nullable=False, comment="Its name as printed on the học bạ"),
    Column("subjects", JSONB, nullable=False, comment="Subject code → ĐTBmhk (decimal text) or Đ/CĐ"),
    Column("conduct", String(16), nullable=True),
    Column("absences", Integer, nullable=True),
    Column("source", Text, nullable=False, comment="What it was entered from (the handed-over record)"),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("class_id", "student_id", "term"),
    ForeignKeyConstraint(["class_id", "student_id"], ["enrolments.class_id", "enrolments.student_id"]),
)

handed_over_terms = Table(
    "handed_over_terms",
    metadata,
    Column("school_id", String(64), nullable=False, comment="The receiving school (the tenant)"),
    Column("transcript_id", String(64), nullable=False, comment="The học bạ handed over (sync's transfer)"),
    Column("school_year", String(9), nullable=False),
    Column("term", String(3), nullable=False, comment="The term locked at the sending school: hk1"),
    Column(
        "moet_code", String(64), nullable=True, comment="How the receiving school's roster finds the student"
    ),
    Column("from_school_id", String(64), nullable=False),
    Column("from_school_name", Text, nullable=False),
    Column("subjects", JSONB, nullable=False, comment="Subject code → ĐTBmhk (decimal text) or Đ/CĐ"),
    Column("conduct", String(16), nullable=True),
    Column("absences", Integer, nullable=True),
    Column("locked_at", DateTime(timezone=True), nullable=False, comment="The sending school's term lock"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("school_id", "transcript_id", "school_year", "term"),
)

individual_plans = Table(
    "individual_plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("subjects", JSONB, nullable=False, comment="The subject codes assessed against the plan"),
    Column(
        "reason", Text, nullable=False, comment="The principal's decision and the plan's reference, as stated"
    ),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    # One plan per student and school year (a class belongs to one year).
    UniqueConstraint("class_id", "student_id", name="uq_individual_plans_student"),
    ForeignKeyConstraint(["class_id", "student_id"], ["enrolments.class_id", "enrolments.student_id"]),
)
