"""Audit tables: the append-only log of every mutation reported by any service."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.runtime.db import new_metadata
from services.runtime.tables import runtime_tables

metadata = new_metadata()
outbox, inbox = runtime_tables(metadata)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("service", String(32), nullable=False),
    Column("school_id", String(64), nullable=True, index=True),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("record", JSONB, nullable=False, comment="The audit event's data as received"),
    Column("reason", Text, nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
