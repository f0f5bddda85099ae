"""The runtime's own tables (outbox, inbox), added to each service's metadata and migrated with it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("exchange", String(200), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("ce_type", String(200), nullable=False),
        Column("body", JSONB, nullable=False, comment="The whole envelope, as sent on the service exchange"),
        Column(
            "public_data", JSONB, nullable=True, comment="Data for hocba.public (opaque ids only), or null"
        ),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text, nullable=True),
        # The relay only ever scans unpublished rows in id order.
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_received_at", "received_at"),
    )


def runtime_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add outbox and inbox to a service's metadata (once) and return them."""
    if "outbox" in metadata.tables:
        return metadata.tables["outbox"], metadata.tables["inbox"]
    return outbox_table(metadata), inbox_table(metadata)
