"""An audit entry: one recorded mutation, as stored in the append-only log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
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
