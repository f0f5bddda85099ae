"""The history of one grade value, read from the log: each value recorded, the lock that froze it, each amendment.

The names are the audit vocabulary the gradebook writes with (``contracts.audit_vocabulary``): a value is
``class/<class>/student/<student>/<subject or homeroom>/<term>`` (:func:`value_id`), a class's term
``class/<class>/<school year>/<term>``, an amendment request ``<value's id>/amendment/<amendment id>``. This domain
module imports that one pure module of ``contracts`` (stdlib only, by an explicit import-linter exception) so the
history reads exactly the names producers write; see that module's docstring for why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contracts.audit_vocabulary import AuditAction, EntityType, actions_on, value_id
from services.audit.domain.model import RecordedEntry

__all__ = [
    "APPROVALS",
    "GRADE_ENTITY_TYPES",
    "KINDS",
    "amendments",
    "in_order",
    "kind_of",
    "step",
    "value_id",
]

# What a grade value's history shows for each action on the value, its amendments and its class's term.
KINDS: dict[AuditAction, str] = {
    AuditAction.MARKS_RECORD: "value",
    AuditAction.HOMEROOM_RECORD: "value",
    AuditAction.TERM_LOCK: "lock",
    AuditAction.TERM_UNLOCK: "unlock",
    AuditAction.AMENDMENT_PROPOSE: "amendment_request",
    AuditAction.AMENDMENT_APPROVE: "amendment_approval",
    AuditAction.AMENDMENT_REJECT: "amendment_rejection",
    AuditAction.MARKS_AMEND: "amended_value",
    AuditAction.HOMEROOM_AMEND: "amended_value",
}
# The entities whose entries make up a grade value's history: every action on them needs a kind above.
GRADE_ENTITY_TYPES = frozenset(
    {EntityType.MARKS, EntityType.STUDENT_TERM, EntityType.CLASS_TERM, EntityType.AMENDMENT}
)
# Who approved is who acted on these: the principal who decided.
APPROVALS = frozenset({AuditAction.AMENDMENT_APPROVE, AuditAction.MARKS_AMEND, AuditAction.HOMEROOM_AMEND})
_AMENDMENT_STEPS = actions_on(EntityType.AMENDMENT)


def in_order(entries: Iterable[RecordedEntry]) -> list[RecordedEntry]:
    """In the order things happened. The chain keeps the order events arrived in, and consumers run side by side:
    two events committed a moment apart (a change and the next, an approval and the value it amends) may be
    chained the other way round. Their chain positions stay in each step, for `hocba audit verify`."""
    return sorted(entries, key=lambda e: (e.occurred_at, e.chain_seq))


def kind_of(action: str) -> str:
    """What a grade value's history shows for ``action``: ``other`` for an action not on grades, or unknown here."""
    try:
        return KINDS.get(AuditAction(action), "other")
    except ValueError:  # a name this vocabulary does not have (an entry from a newer producer)
        return "other"


def step(entry: RecordedEntry) -> dict[str, Any]:
    """One step of the history as GET …/audit/grades/… shows it (a JSON object, in this key order)."""
    record = entry.record
    return {
        "chain_seq": entry.chain_seq,
        "kind": kind_of(entry.action),
        "action": entry.action,
        "entity_id": entry.entity_id,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.recorded_at,
        "changes": record.get("changes", {}),
        "before_hash": record.get("before_hash"),
        "after_hash": record.get("after_hash"),
        "reason": entry.reason,
        "amendment_id": record.get("amendment_id"),
        "approved_by": entry.actor_id if entry.action in APPROVALS else None,
    }


def amendments(steps: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per amendment: who asked and why, and who decided (the approving principal) and what."""
    found: dict[str, dict[str, Any]] = {}
    for s in steps:
        if s["amendment_id"] is None or s["action"] not in _AMENDMENT_STEPS:
            continue
        line = found.setdefault(
            s["amendment_id"],
            {"amendment_id": s["amendment_id"], "status": "pending", "requested_by": None, "reason": None},
        )
        if s["action"] == AuditAction.AMENDMENT_PROPOSE:
            line.update(requested_by=s["actor_id"], reason=s["reason"], requested_at=s["occurred_at"])
        else:
            line.update(
                status="approved" if s["action"] == AuditAction.AMENDMENT_APPROVE else "rejected",
                decided_by=s["actor_id"],
                decision_note=s["reason"],
                decided_at=s["occurred_at"],
            )
    return list(found.values())
