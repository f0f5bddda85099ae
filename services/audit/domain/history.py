"""The history of one grade value, read from the log: each value recorded, the lock that froze it, each amendment.

The gradebook names a value ``class/<class>/student/<student>/<subject or homeroom>/<term>``, a class's term
``class/<class>/<school year>/<term>``, and an amendment request ``<value's id>/amendment/<amendment id>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

KINDS = {
    "marks.record": "value",
    "homeroom.record": "value",
    "term.lock": "lock",
    "term.unlock": "unlock",
    "amendment.propose": "amendment_request",
    "amendment.approve": "amendment_approval",
    "amendment.reject": "amendment_rejection",
    "marks.amend": "amended_value",
    "homeroom.amend": "amended_value",
}
# Who approved is who acted on these: the principal who decided.
APPROVALS = frozenset({"amendment.approve", "marks.amend", "homeroom.amend"})


def value_id(class_id: str, subject: str, term: str, student_id: str) -> str:
    return f"class/{class_id}/student/{student_id}/{subject}/{term}"


def in_order(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """In the order things happened. The chain keeps the order events arrived in, and consumers run side by side:
    two events committed a moment apart (a change and the next, an approval and the value it amends) may be
    chained the other way round. Their chain positions stay in each step, for `hocba audit verify`."""
    return sorted(entries, key=lambda e: (e["occurred_at"], e["chain_seq"]))


def step(entry: dict[str, Any]) -> dict[str, Any]:
    record = entry["record"]
    return {
        "chain_seq": entry["chain_seq"],
        "kind": KINDS.get(entry["action"], "other"),
        "action": entry["action"],
        "entity_id": entry["entity_id"],
        "actor_id": entry["actor_id"],
        "actor_role": entry["actor_role"],
        "occurred_at": entry["occurred_at"],
        "recorded_at": entry["recorded_at"],
        "changes": record.get("changes", {}),
        "before_hash": record.get("before_hash"),
        "after_hash": record.get("after_hash"),
        "reason": entry["reason"],
        "amendment_id": record.get("amendment_id"),
        "approved_by": entry["actor_id"] if entry["action"] in APPROVALS else None,
    }


def amendments(steps: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per amendment: who asked and why, and who decided (the approving principal) and what."""
    found: dict[str, dict[str, Any]] = {}
    for s in steps:
        if s["amendment_id"] is None or not s["action"].startswith("amendment."):
            continue
        line = found.setdefault(
            s["amendment_id"],
            {"amendment_id": s["amendment_id"], "status": "pending", "requested_by": None, "reason": None},
        )
        if s["action"] == "amendment.propose":
            line.update(requested_by=s["actor_id"], reason=s["reason"], requested_at=s["occurred_at"])
        else:
            line.update(
                status="approved" if s["action"] == "amendment.approve" else "rejected",
                decided_by=s["actor_id"],
                decision_note=s["reason"],
                decided_at=s["occurred_at"],
            )
    return list(found.values())
