"""Housekeeping for the runtime's tables: published outbox rows and old inbox claims are not kept forever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, Table, delete, func, select


@dataclass(frozen=True)
class Pruned:
    outbox: int
    inbox: int


def prune(engine: Engine, outbox: Table, inbox: Table, older_than: timedelta, batch: int = 10_000) -> Pruned:
    """Delete, in short batches, outbox rows published and inbox claims received longer ago than ``older_than``.

    Unpublished outbox rows are never touched, however old: they are events still owed to the broker. An inbox
    claim only has to outlive the redelivery window (a lost ack, a replay from a dead-letter queue); keep it well
    beyond how long messages may wait in a DLQ before `hocba dlq purge`.
    """
    totals = {"outbox": 0, "inbox": 0}
    for name, table, column in (
        ("outbox", outbox, outbox.c.published_at),
        ("inbox", inbox, inbox.c.received_at),
    ):
        key = table.c.id if name == "outbox" else table.c.event_id
        while True:
            with engine.begin() as conn:
                doomed = select(key).where(column.is_not(None), column < func.now() - older_than).limit(batch)
                deleted = conn.execute(delete(table).where(key.in_(doomed.scalar_subquery()))).rowcount
            totals[name] += deleted
            if deleted < batch:
                break
    return Pruned(**totals)
