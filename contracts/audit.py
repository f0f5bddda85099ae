"""The audit event every service emits for every mutation."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from contracts.envelope import EventModel


class AuditRecordedV1(EventModel):
    """Someone changed something. Values that may be personal data travel as hashes or masked, never in clear."""

    EVENT_NAME: ClassVar[str] = "audit.recorded"
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("gradebook", "transcript", "signing", "sync", "ops")

    service: str = Field(description="Service where the mutation happened, e.g. gradebook")
    school_id: str | None = Field(None, description="Tenant the mutation belongs to")
    actor_id: str = Field(description="Opaque id of the user or system component that acted")
    actor_role: str = Field(
        description="Role the actor acted in: teacher, homeroom, principal, staff, operator, system"
    )
    action: str = Field(description="What was done, e.g. term.lock, score.record, amendment.approve")
    entity_type: str = Field(description="Kind of thing changed, e.g. class_term, score")
    entity_id: str = Field(description="Opaque id of the thing changed")
    before_hash: str | None = Field(
        None, description="sha256 of the canonical value before (None when created)"
    )
    after_hash: str | None = Field(
        None, description="sha256 of the canonical value after (None when deleted)"
    )
    changes: dict[str, str] = Field(
        default_factory=dict,
        description="Field → masked summary of the change, e.g. {'hk1.final': '7.0 → 8.0'}",
    )
    reason: str | None = Field(None, description="Why, as the actor stated it (required for amendments)")
    amendment_id: str | None = Field(None, description="Amendment record (biên bản) this change executes")
    occurred_at: datetime = Field(description="When the mutation was committed")
