"""The audit event every service emits for every mutation, and the vocabulary its actions and entity ids use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar, NotRequired, TypedDict, Unpack

from pydantic import Field

# The vocabulary is the audit contract too: producers import it from here.
from contracts import audit_vocabulary
from contracts.audit_vocabulary import *  # noqa: F403
from contracts.audit_vocabulary import AuditAction
from contracts.envelope import EventModel

__all__ = [*audit_vocabulary.__all__, "AuditFacts", "AuditRecordedV1"]


class AuditFacts(TypedDict):
    """What a producer says of one change (the keywords of :meth:`AuditRecordedV1.of` and ``uow.audit``)."""

    entity: str
    actor: str
    role: str
    school_id: str | None
    before_hash: NotRequired[str | None]
    after_hash: NotRequired[str | None]
    changes: NotRequired[Mapping[str, str] | None]
    reason: NotRequired[str | None]
    amendment_id: NotRequired[str | None]
    occurred_at: NotRequired[datetime | None]


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
    # ``action`` and ``entity_type`` stay plain strings on the wire, not enums: the audit log must keep the trail of
    # a producer newer than itself (an action it does not know yet) rather than refuse it to the dead-letter queue.
    # Producers build the event with ``of``, which takes an ``AuditAction`` and derives the entity type.
    action: str = Field(
        description="What was done, e.g. term.lock, marks.record, amendment.approve "
        "(every name: AuditAction in contracts/audit_vocabulary.py)"
    )
    entity_type: str = Field(description="Kind of thing changed, e.g. class_term, marks")
    entity_id: str = Field(
        description="Id of the thing changed, e.g. class/<class>/student/<student>/<subject>/<term> for a grade value"
    )
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

    @classmethod
    def of(cls, action: AuditAction, *, service: str, **facts: Unpack[AuditFacts]) -> AuditRecordedV1:
        """The event for ``action`` on ``entity`` by ``actor`` acting as ``role``; ``occurred_at`` defaults to now."""
        occurred_at = facts.get("occurred_at")
        return cls(
            service=service,
            school_id=facts["school_id"],
            actor_id=facts["actor"],
            actor_role=facts["role"],
            action=action.value,
            entity_type=action.entity_type.value,
            entity_id=facts["entity"],
            before_hash=facts.get("before_hash"),
            after_hash=facts.get("after_hash"),
            changes=dict(facts.get("changes") or {}),
            reason=facts.get("reason"),
            amendment_id=facts.get("amendment_id"),
            occurred_at=occurred_at if occurred_at is not None else datetime.now(UTC),
        )
