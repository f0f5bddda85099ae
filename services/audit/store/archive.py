"""A school's audit chain for the year-end archive, and appending it back.

The chain is one per school across years, so a year's archive carries all of it up to the export, from its first
entry (a restored chain verifies from its first link), with the checkpoints that vouch for it. Restoring the next year's archive over an
earlier one appends only the entries past the chain's head, after checking the shared part is the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.audit.domain.chain import chain_key
from services.audit.store.tables import audit_entries, chain_heads, checkpoints
from services.runtime.archive import Rows, fetch, follow_sequence, insert_rows

TABLES: tuple[tuple[Table, bool], ...] = ((audit_entries, False), (checkpoints, True))


def rows_for(session: Session, school_id: str, school_year: str) -> dict[str, Rows]:
    chain = chain_key(school_id)
    last = session.execute(
        select(func.max(audit_entries.c.chain_seq)).where(audit_entries.c.chain == chain)
    ).scalar_one()
    if last is None:
        return {"audit_entries": [], "audit_checkpoints": []}
    return {
        "audit_entries": fetch(
            session,
            select(audit_entries).where(audit_entries.c.chain == chain, audit_entries.c.chain_seq <= last),
            audit_entries,
        ),
        "audit_checkpoints": fetch(
            session,
            select(checkpoints).where(checkpoints.c.chain == chain, checkpoints.c.chain_seq <= last),
            checkpoints,
        ),
    }


def _stored(session: Session, chain: str) -> dict[int, tuple[int, str]]:
    rows = session.execute(
        select(audit_entries.c.chain_seq, audit_entries.c.seq, audit_entries.c.entry_hash).where(
            audit_entries.c.chain == chain
        )
    )
    return {row.chain_seq: (row.seq, row.entry_hash) for row in rows}


def conflicts(session: Session, rows: dict[str, Rows]) -> list[str]:
    """Why the archived chain cannot be added here: stored entries that differ, or numbers another chain took."""
    entries = rows.get("audit_entries", [])
    if not entries:
        return []
    chain = entries[0]["chain"]
    stored = _stored(session, chain)
    differing = [
        e["chain_seq"]
        for e in entries
        if e["chain_seq"] in stored and stored[e["chain_seq"]][1] != e["entry_hash"]
    ]
    if differing:
        return [f"audit chain {chain} here differs from the archive from entry {min(differing)}"]
    new = [e for e in entries if e["chain_seq"] not in stored]
    if new and stored and min(e["chain_seq"] for e in new) != max(stored) + 1:
        return [f"audit chain {chain} here ends at {max(stored)}, not where the archive continues it"]
    taken = session.execute(
        select(func.count()).where(audit_entries.c.seq.in_([e["seq"] for e in new]))
    ).scalar_one()
    if taken:
        return [f"{taken} audit entry number(s) of the archive are taken here by other chains"]
    return []


def restore(session: Session, rows: dict[str, Rows]) -> dict[str, int]:
    """Append the entries past the chain's head, move the head, add the checkpoints; the caller owns the transaction."""
    entries = rows.get("audit_entries", [])
    if not entries:
        return {"audit_entries": 0, "audit_checkpoints": 0}
    chain = entries[0]["chain"]
    stored = _stored(session, chain)
    new = [e for e in entries if e["chain_seq"] not in stored]
    added = insert_rows(session, audit_entries, new)
    follow_sequence(session, audit_entries, "seq")
    last = max(entries, key=lambda e: e["chain_seq"])
    if new:
        head: dict[str, Any] = {"last_seq": last["chain_seq"], "last_hash": last["entry_hash"]}
        session.execute(
            pg_insert(chain_heads)
            .values(chain=chain, **head)
            .on_conflict_do_update(index_elements=["chain"], set_=head)
        )
    return {
        "audit_entries": added,
        "audit_checkpoints": insert_rows(
            session, checkpoints, rows.get("audit_checkpoints", []), if_absent=True
        ),
    }
