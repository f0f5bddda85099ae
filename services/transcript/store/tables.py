"""Transcript tables: the học bạ, its year records, and documents stored by content address."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.runtime.db import new_metadata
from services.runtime.documents import documents_table
from services.runtime.tables import runtime_tables

metadata = new_metadata()
outbox, inbox = runtime_tables(metadata)

transcripts = Table(
    "transcripts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True, comment="The school that keeps this học bạ"),
    Column("student_id", String(64), nullable=False, comment="The school's own id of the student"),
    Column("level", String(20), nullable=False),
    # The student's code for life, not the row's: a transfer's receiving school continues the sending school's
    # (services/transcript/app/handover.py), so two schools' rows may share it; every lookup by code is scoped by
    # school (migration 0005 says why it is not unique per school either).
    Column(
        "lookup_code",
        String(32),
        nullable=False,
        index=True,
        comment="32 lowercase hex; the student's for life: a transfer's receiving school continues it",
    ),
    Column("moet_code", String(64), nullable=True),
    Column("personal_id_enc", LargeBinary, nullable=True, comment="Filled by the records import, encrypted"),
    Column("effective_date", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A student id means something only within its school: school A naming an id that school B uses is another
    # student, never B's học bạ (see TranscriptRepository.transcript_for).
    UniqueConstraint("school_id", "student_id", "level", name="uq_transcripts_school_student_level"),
)

year_records = Table(
    "year_records",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("transcript_id", String(40), ForeignKey("transcripts.id"), nullable=False, index=True),
    Column("school_id", String(64), nullable=False),
    Column("class_id", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column(
        "content_hash", String(64), nullable=False, comment="sha256 of the source data (dedup of replays)"
    ),
    Column("xml_sha256", String(64), ForeignKey("documents.sha256"), nullable=False),
    Column("pdf_sha256", String(64), ForeignKey("documents.sha256"), nullable=False),
    Column("supersedes", String(40), nullable=True),
    Column("signature_plan", JSONB, nullable=False),
    Column("header", JSONB, nullable=False, comment="School and class facts from the year's lock"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("transcript_id", "school_year", "version", name="uq_year_records_version"),
)

documents = documents_table(metadata)

handovers = Table(
    "handovers",
    metadata,
    Column("transcript_id", String(40), primary_key=True, comment="The học bạ at the sending school"),
    Column("to_school", String(64), primary_key=True),
    Column(
        "moet_code",
        String(64),
        nullable=True,
        index=True,
        comment="How the receiving school finds the student",
    ),
    Column("school_year", String(9), nullable=False, comment="Year of the last sealed record handed over"),
    Column("previous_record_sha256", String(64), nullable=False),
    Column(
        "lookup_code",
        String(32),
        nullable=True,
        comment="The học bạ's lookup code: the receiving school's học bạ continues it",
    ),
    Column("level", String(20), nullable=True, comment="School level of the học bạ handed over"),
    Column(
        "personal_id_hash",
        String(64),
        nullable=True,
        index=True,
        comment="Keyed hash (HMAC) of the student's personal ID: found by it where there is no MOET code",
    ),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Every approved amendment received, with the class snapshot it produced. A year's lock that arrives after it (still in
# flight, or replayed from its dead-letter queue) builds from the latest amendment approved after the lock, so the
# record carries the correction instead of the values it corrected.
amendments = Table(
    "amendments",
    metadata,
    Column("amendment_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("class_id", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
    Column("event", JSONB, nullable=False, comment="The AmendmentAppliedV1 as received (its class snapshot)"),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_amendments_class", "school_id", "class_id", "school_year"),
)
