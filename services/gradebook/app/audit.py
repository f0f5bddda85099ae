"""Building the audit event every gradebook mutation emits: hashes and masked summaries, never raw personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditRecordedV1
from services.gradebook.app.unit_of_work import SERVICE
from services.gradebook.domain.permissions import Actor
from services.gradebook.domain.term_lock import content_hash

ROLE_ORDER = ("principal", "homeroom", "teacher", "staff", "operator", "inspector")


def acting_role(actor: Actor) -> str:
    return next((r for r in ROLE_ORDER if r in actor.roles), "unknown")


def summarise(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, str]:
    """Field → "old → new" for the fields that changed (grades and levels; no personal data lives here)."""
    before, after = before or {}, after or {}
    changes = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            old, new = before.get(key), after.get(key)
            if key.endswith("comment"):
                old, new = ("…" if old else "∅"), ("…" if new else "∅")  # free text stays out of the summary
            changes[key] = f"{_show(old)} → {_show(new)}"
    return changes


def _show(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def audit_event(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    school_id: str,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    amendment_id: str | None = None,
    changes: dict[str, str] | None = None,
) -> AuditRecordedV1:
    return AuditRecordedV1(
        service=SERVICE,
        school_id=school_id,
        actor_id=actor.user_id,
        actor_role=acting_role(actor),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before_hash=None if before is None else content_hash(before),
        after_hash=None if after is None else content_hash(after),
        changes=changes
        if changes is not None
        else (summarise(before, after) if isinstance(before or after, dict) else {}),
        reason=reason,
        amendment_id=amendment_id,
        occurred_at=datetime.now(UTC),
    )
