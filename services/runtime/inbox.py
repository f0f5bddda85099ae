"""Inbox: a consumer records each event id in the same transaction as its side effect, so duplicates are no-ops."""

from __future__ import annotations

import uuid

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, session: Session, consumer: str, event_id: uuid.UUID | str) -> bool:
        """True the first time ``consumer`` sees ``event_id``; False for a redelivery or replay.

        Runs in the caller's transaction: if the side effect rolls back, so does the claim, and the redelivered
        message is handled again. Concurrent duplicates serialise on the primary key.
        """
        stmt = (
            insert(self.table)
            .values(consumer=consumer, event_id=uuid.UUID(str(event_id)))
            .on_conflict_do_nothing()
            .returning(self.table.c.event_id)
        )
        return session.execute(stmt).first() is not None
