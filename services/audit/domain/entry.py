"""An audit entry: one recorded mutation, as stored in the append-only log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    event_id: uuid.UUID
    service: str
    school_id: str | None
    actor_id: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    record: dict[str, Any]
    reason: str | None
    occurred_at: datetime

    def content(self) -> dict[str, Any]:
        """What the chain seals: every stored business column, in a form that hashes the same after a round trip."""
        # The fields as they are: asdict() would deep-copy ``record`` for every entry appended or verified (a
        # tenth of the audit consumer's CPU under a burst), and the chain only serialises it.
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["event_id"] = str(self.event_id)
        values["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat()
        return values
