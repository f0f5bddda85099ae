"""Building the audit event every gradebook mutation emits: hashes and masked summaries, never raw personal data."""

from __future__ import annotations

from typing import Any

from contracts.audit import AuditAction
from services.gradebook.domain.permissions import Actor
from services.gradebook.domain.term_lock import content_hash
from services.runtime.uow import SqlUnitOfWork

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


def audit_change(
    uow: SqlUnitOfWork,
    actor: Actor,
    action: AuditAction,
    entity: str,
    *,
    school_id: str,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    amendment_id: str | None = None,
    changes: dict[str, str] | None = None,
    subject: str | None = None,
) -> None:
    """Queue the audit event of a gradebook change: the values as content hashes, the fields as a masked summary."""
    uow.audit(
        action,
        entity=entity,
        actor=actor.user_id,
        role=acting_role(actor),
        school_id=school_id,
        before_hash=None if before is None else content_hash(before),
        after_hash=None if after is None else content_hash(after),
        changes=changes
        if changes is not None
        else (summarise(before, after) if isinstance(before or after, dict) else {}),
        reason=reason,
        amendment_id=amendment_id,
        subject=subject,
    )
