"""Gradebook tables."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, PrimaryKeyConstraint, String, Table

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
    Column("term", String(3), nullable=False),
    Column("locked_by", String(64), nullable=False),
    Column("locked_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("school_id", "class_id", "school_year", "term"),
)
