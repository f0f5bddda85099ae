"""A school's audit log as JSON Lines that anyone can check offline: each line one chained entry, then a seal line.

The seal line carries the sha256 of every line before it and an RFC 3161 timestamp token over that digest, so the
file cannot be edited, cut short or extended without the check failing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.audit.domain.chain import Break, ChainedEntry, entry_hash

FORMAT = "hocba-audit-export/1"


def school_year_bounds(school_year: str) -> tuple[datetime, datetime]:
    """A school year runs from 1 August to 31 July (the supplementary assessment closes in August)."""
    start = int(school_year.split("-")[0])
    return datetime(start, 8, 1, tzinfo=UTC), datetime(start + 1, 8, 1, tzinfo=UTC)


def entry_line(entry: ChainedEntry) -> str:
    return json.dumps(
        {"seq": entry.seq, "prev": entry.prev_hash, "hash": entry.entry_hash, "content": entry.content},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def body_digest(lines: Iterable[str]) -> bytes:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.digest()


@dataclass(frozen=True)
class Seal:
    chain: str
    first_seq: int
    last_seq: int
    body_sha256: str
    token_b64: str

    def line(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "chain": self.chain,
                "from": self.first_seq,
                "to": self.last_seq,
                "body_sha256": self.body_sha256,
                "timestamp": self.token_b64,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def parse(text: str) -> tuple[list[str], dict[str, object]]:
    """(entry lines, seal) of an export; ValueError when it is not one."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty file")
    seal = json.loads(lines[-1])
    if not isinstance(seal, dict) or seal.get("format") != FORMAT:
        raise ValueError(f"the last line is not a {FORMAT} seal")
    return lines[:-1], seal


def verify_entries(lines: Sequence[str], seal: dict[str, object]) -> Break | None:
    """Every line hashes to what it says, links to the one before, and the range is the one the seal names."""
    expected: int | None = None
    prev: str | None = None
    for raw in lines:
        item = json.loads(raw)
        seq = int(item["seq"])
        if expected is not None and seq != expected:
            return Break(expected, f"entry {expected} is missing from the file (next is {seq})")
        if prev is not None and item["prev"] != prev:
            return Break(seq, "does not link to the previous entry in the file")
        if entry_hash(item["content"], seq, item["prev"]) != item["hash"]:
            return Break(seq, "content does not match its hash (edited in the file)")
        prev, expected = item["hash"], seq + 1
    first = json.loads(lines[0])["seq"] if lines else None
    last = (expected - 1) if expected is not None else None
    if (first, last) != (seal.get("from"), seal.get("to")):
        return Break(
            int(last or 0),
            f"the file holds {first}..{last} but its seal says {seal.get('from')}..{seal.get('to')}",
        )
    if body_digest(lines).hex() != seal.get("body_sha256"):
        return Break(int(last or 0), "the lines are not the ones the seal covers")
    return None
