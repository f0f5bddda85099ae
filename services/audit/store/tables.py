"""Audit tables: the append-only log of every mutation reported by any service."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, Table, Text, UniqueConstraint, func
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
    Column("chain", String(64), nullable=False, comment="The school id, or _platform"),
    Column("chain_seq", BigInteger, nullable=False, comment="Gap-free position in the chain, from 1"),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    UniqueConstraint("chain", "chain_seq", name="uq_audit_entries_chain_seq"),
)

# One row per chain: appenders lock it, so replicas append one at a time per school and never leave a gap.
chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# A chain head timestamped by a TSA: whoever rewrites the log later, even consistently, cannot match these.
checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("chain_seq", BigInteger, primary_key=True, comment="The entry the checkpoint vouches for"),
    Column("entry_hash", String(64), nullable=False),
    Column(
        "token",
        LargeBinary,
        nullable=False,
        comment="RFC 3161 timestamp token (DER) over the checkpoint digest",
    ),
    Column("stamped_at", DateTime(timezone=True), nullable=True, comment="The time in the token"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
