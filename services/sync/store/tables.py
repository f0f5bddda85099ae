"""Sync tables: one submission per sealed year record version, each school's gateway credentials, and transfer
requests (chuyển trường) between schools."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, String, Table, Text, func, text

from services.runtime.db import new_metadata
from services.runtime.tables import runtime_tables

metadata = new_metadata()
outbox, inbox = runtime_tables(metadata)

submissions = Table(
    "submissions",
    metadata,
    Column("year_record_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("class_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("transcript_id", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("supersedes", String(64), nullable=True),
    Column("assessment", String(16), nullable=False),
    Column("lookup_code", String(32), nullable=False),
    Column("pdf_sha256", String(64), nullable=False),
    Column("xml_sha256", String(64), nullable=False, comment="The year record XML as the PDF embeds it"),
    Column(
        "status",
        String(16),
        nullable=False,
        comment="pending | accepted | rejected | withdrawn | replaced | superseded (never sent)",
    ),
    Column("operation", String(8), nullable=False, comment="submit | replace"),
    Column("replaces_gateway_id", String(64), nullable=True),
    Column("idempotency_key", String(100), nullable=False, unique=True, comment="The same on every retry"),
    Column("gateway_record_id", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text, nullable=True),
    Column("rejection_reason", String(64), nullable=True),
    Column("rejection_detail", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
    Column(
        "effective_at", DateTime(timezone=True), nullable=True, comment="Announced effective (cutoff passed)"
    ),
    Index("ix_submissions_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
)

credentials = Table(
    "gateway_credentials",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column(
        "token_enc", LargeBinary, nullable=False, comment="The school's gateway token, AES-GCM (data key)"
    ),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

transfer_requests = Table(
    "transfer_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "from_school",
        String(64),
        nullable=False,
        index=True,
        comment="The sending school: its principal decides",
    ),
    Column("to_school", String(64), nullable=False, index=True, comment="The receiving school, which asked"),
    Column("transcript_id", String(64), nullable=False, comment="The học bạ at the sending school"),
    Column("status", String(16), nullable=False, comment="pending | approved | refused"),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True, comment="Why the sending principal refused"),
    Column("gateway_transfer_id", String(64), nullable=True, comment="The province's id of the handover"),
    # One open request per học bạ and receiving school: asking again returns the one that waits.
    Index(
        "uq_transfer_requests_pending",
        "transcript_id",
        "to_school",
        unique=True,
        postgresql_where=text("status = 'pending'"),
    ),
)
