"""Audit use cases."""

from __future__ import annotations

from typing import Any

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.audit.domain.entry import AuditEntry

CONSUMER = "audit.record"


def record(envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork) -> bool:
    """Append one audit event to the log, exactly once per event id; False for a duplicate delivery."""
    event = envelope.data
    with uow:
        if not uow.first_delivery(CONSUMER, envelope.id):
            return False
        record_data: dict[str, Any] = event.model_dump(mode="json")
        uow.log.append(
            AuditEntry(
                event_id=envelope.id,
                service=event.service,
                school_id=event.school_id,
                actor_id=event.actor_id,
                actor_role=event.actor_role,
                action=event.action,
                entity_type=event.entity_type,
                entity_id=event.entity_id,
                record=record_data,
                reason=event.reason,
                occurred_at=event.occurred_at,
            )
        )
        uow.commit()
    return True
