"""Reconciliation: what the gateway holds against what we believe, and the repair for each difference."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Repair = Literal["mark_accepted", "resubmit", "mark_withdrawn", "mark_replaced"]


@dataclass(frozen=True)
class Difference:
    year_record_id: str
    version: int
    repair: Repair
    gateway_record_id: str | None = None


class Reported(Protocol):
    """What reconciliation reads of one of our submissions (domain/model.py Submission)."""

    @property
    def year_record_id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def status(self) -> str: ...


def differences(ours: Iterable[Reported], theirs: Iterable[Mapping[str, Any]]) -> list[Difference]:
    """``ours``: our submissions; ``theirs``: the gateway's listing rows as it sends them (JSON: id,
    year_record_id, version, status: current | effective | replaced | withdrawn)."""
    held = {(r["year_record_id"], int(r["version"])): r for r in theirs}
    found = []
    for mine in ours:
        key = (mine.year_record_id, mine.version)
        remote = held.get(key)
        status = mine.status
        if remote is None:
            if status == "accepted":
                found.append(Difference(key[0], key[1], "resubmit"))
            continue
        if status in ("pending", "rejected") and remote["status"] in ("current", "effective"):
            # Accepted, but we never heard (timeout after the commit, dropped connection).
            found.append(Difference(key[0], key[1], "mark_accepted", remote["id"]))
        elif status == "accepted" and remote["status"] == "withdrawn":
            found.append(Difference(key[0], key[1], "mark_withdrawn", remote["id"]))
        elif status == "accepted" and remote["status"] == "replaced":
            found.append(Difference(key[0], key[1], "mark_replaced", remote["id"]))
    return found
