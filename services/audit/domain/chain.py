"""The audit log's hash chain: each school's entries form one gap-free sequence, each entry sealing the one before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
PLATFORM = "_platform"  # the chain of entries that belong to no school (operators' actions)


def chain_key(school_id: str | None) -> str:
    return school_id or PLATFORM


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(
        content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def entry_hash(content: dict[str, Any], seq: int, prev_hash: str) -> str:
    """sha256 over the entry's content, its place in the chain and the previous entry's hash."""
    return hashlib.sha256(canonical({"content": content, "seq": seq, "prev": prev_hash})).hexdigest()


@dataclass(frozen=True)
class ChainedEntry:
    seq: int
    content: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def verify(
    entries: Iterable[ChainedEntry], head_seq: int | None = None, head_hash: str | None = None
) -> Break | None:
    """The first place where the chain is broken, or None. ``entries`` in stored sequence order.

    An edited row changes its hash; a deleted row leaves a gap (or, at the end, a head that points past the
    last row); swapped rows break the links; a forged row cannot match the next row's stored ``prev_hash``.
    """
    expected_seq, prev = 1, GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                return Break(
                    expected_seq, f"entry {expected_seq} is missing (deleted): the next stored is {entry.seq}"
                )
            return Break(entry.seq, f"entry {entry.seq} is out of order (expected {expected_seq})")
        if entry.prev_hash != prev:
            return Break(
                entry.seq, "does not link to the previous entry (rows reordered, replaced or inserted)"
            )
        if entry_hash(entry.content, entry.seq, entry.prev_hash) != entry.entry_hash:
            return Break(entry.seq, "content does not match its hash (the row was edited)")
        prev = entry.entry_hash
        expected_seq += 1
    if head_seq is not None and head_seq != expected_seq - 1:
        return Break(
            expected_seq, f"the chain head says {head_seq} entries but {expected_seq - 1} remain (deleted)"
        )
    if head_hash is not None and expected_seq > 1 and head_hash != prev:
        return Break(expected_seq - 1, "the last entry is not the one the chain head sealed")
    return None


def checkpoint_digest(chain: str, seq: int, entry_hash_: str) -> bytes:
    """What a checkpoint's timestamp covers: this chain had this entry at this position."""
    return hashlib.sha256(f"hocba-audit-checkpoint:{chain}:{seq}:{entry_hash_}".encode()).digest()


def check_checkpoint(
    chain: str,
    seq: int,
    checkpoint_hash: str,
    stored_hash: str | None,
    token_ok: bool,
    token_reason: str | None,
) -> Break | None:
    """A checkpoint fails when the log no longer has the entry it vouched for, or its token proves nothing."""
    if stored_hash is None:
        return Break(seq, f"checkpoint at {seq} vouches for an entry the log no longer has (deleted)")
    if stored_hash != checkpoint_hash:
        return Break(seq, f"entry {seq} differs from what the checkpoint timestamped (the log was rewritten)")
    if not token_ok:
        return Break(seq, f"checkpoint at {seq} is forged: {token_reason}")
    return None
