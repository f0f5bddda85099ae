"""Transactional outbox: events are rows written in the same transaction as the state they describe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from contracts.envelope import Envelope, EventModel


def exchange_of(service: str) -> str:
    """nameko's convention for a service's event exchange."""
    return f"{service}.events"


class Outbox:
    """Writes a service's outgoing events into its outbox table; the relay publishes them after commit."""

    def __init__(self, service: str, table: Table) -> None:
        self.service = service
        self.table = table

    def add(
        self,
        session: Session,
        event: EventModel,
        *,
        subject: str | None = None,
        correlation_id: str | None = None,
    ) -> Envelope[Any]:
        """Stage ``event`` in the caller's transaction: it exists for the relay only if that transaction commits."""
        return self.add_all(session, [(event, subject)], correlation_id=correlation_id)[0]

    def add_all(
        self,
        session: Session,
        events: Sequence[tuple[EventModel, str | None]],
        *,
        correlation_id: str | None = None,
    ) -> list[Envelope[Any]]:
        """Stage several (event, subject) pairs with one multi-row INSERT."""
        envelopes, rows = [], []
        for event, subject in events:
            envelope = Envelope.wrap(
                event, source_service=self.service, subject=subject, correlation_id=correlation_id
            )
            public = event.public_view()
            envelopes.append(envelope)
            rows.append(
                {
                    "event_id": envelope.id,
                    "exchange": exchange_of(self.service),
                    "routing_key": event.routing_key(),
                    "ce_type": envelope.type,
                    "body": envelope.wire(),
                    "public_data": public.model_dump(mode="json") if public is not None else None,
                }
            )
        if rows:
            session.execute(insert(self.table), rows)
        return envelopes
