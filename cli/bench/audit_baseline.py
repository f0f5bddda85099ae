"""`hocba bench audit`'s baseline: the same hash chain appended with plain psycopg, as fast as it allows.

The same guarantees as the audit service: each school's entries one gap-free chain, each sealing the one before
(the domain's ``entry_hash`` over the same content), the head locked while a chain grows, an event id stored once
(unique), personal values pseudonymised, everything durable at commit. The freedom ours has not (yet) taken: up to
``batch`` events of one chain in one transaction (the head locked once), two round trips a transaction (psycopg's
pipeline mode), ``concurrency`` transactions at once, one connection each.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

BASELINE_TABLES = """
create table if not exists bare_chain_heads (
    chain text primary key, last_seq bigint not null, last_hash text not null);
create table if not exists bare_chain_entries (
    seq bigserial primary key, event_id uuid not null unique, service text not null, school_id text,
    actor_id text not null, actor_role text not null, action text not null, entity_type text not null,
    entity_id text not null, record jsonb not null, reason text, occurred_at timestamptz not null,
    chain text not null, chain_seq bigint not null, prev_hash text not null, entry_hash text not null,
    unique (chain, chain_seq));
truncate bare_chain_heads, bare_chain_entries;
"""
_OPEN_HEAD = (
    "insert into bare_chain_heads values (%s, 0, %s) on conflict (chain) "
    "do update set last_seq = bare_chain_heads.last_seq returning last_seq, last_hash"
)
_INSERT = (
    "insert into bare_chain_entries (event_id, service, school_id, actor_id, actor_role, action, entity_type, "
    "entity_id, record, reason, occurred_at, chain, chain_seq, prev_hash, entry_hash) "
    "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_ADVANCE = "update bare_chain_heads set last_seq = %s, last_hash = %s where chain = %s"


def conninfo(sqlalchemy_url: str) -> str:
    """libpq's form of a SQLAlchemy URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def batches(entries: list[Any], batch: int) -> list[list[Any]]:
    """The entries cut into transactions: at most ``batch`` each, one chain each, each chain's in arrival order, and
    the transactions in the order their first entry arrived (so concurrent ones are of different chains, as the
    events interleave, not queued up on one chain's head)."""
    from services.audit.domain.chain import chain_key

    by_chain: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for n, entry in enumerate(entries):
        by_chain[chain_key(entry.school_id)].append((n, entry))
    groups = [chain[i : i + batch] for chain in by_chain.values() for i in range(0, len(chain), batch)]
    return [[entry for _, entry in group] for group in sorted(groups, key=lambda group: group[0][0])]


def append_all(url: str, entries: list[Any], *, batch: int, concurrency: int) -> None:
    """Append ``entries`` (``AuditEntry``) to the baseline's chains; the caller runs under eventlet (green.patch)."""
    import eventlet
    import psycopg
    from psycopg.types.json import Jsonb

    from services.audit.domain.chain import GENESIS, chain_key, entry_hash

    connections: eventlet.queue.Queue[Any] = eventlet.queue.Queue()
    for _ in range(concurrency):
        connections.put(psycopg.connect(conninfo(url)))

    def append(group: list[Any]) -> None:
        chain = chain_key(group[0].school_id)
        conn = connections.get()
        try:
            # Pipelined: the head's row comes back in the first round trip (BEGIN, lock, read), the entries, the head's
            # move and the COMMIT go in the second.
            with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
                seq, prev = cur.execute(_OPEN_HEAD, (chain, GENESIS)).fetchone() or (0, GENESIS)
                rows = []
                for entry in group:
                    seq += 1
                    sealed = entry_hash(entry.content(), seq, prev)
                    rows.append(
                        (
                            entry.event_id,
                            entry.service,
                            entry.school_id,
                            entry.actor_id,
                            entry.actor_role,
                            entry.action,
                            entry.entity_type,
                            entry.entity_id,
                            Jsonb(entry.record),
                            entry.reason,
                            entry.occurred_at,
                            chain,
                            seq,
                            prev,
                            sealed,
                        )
                    )
                    prev = sealed
                cur.executemany(_INSERT, rows)
                cur.execute(_ADVANCE, (seq, prev, chain))
        finally:
            connections.put(conn)

    try:
        list(eventlet.GreenPool(concurrency).imap(append, batches(entries, batch)))
    finally:
        while not connections.empty():
            connections.get().close()


def entry_of(envelope: Any, vault: Any) -> Any:
    """The entry the audit service stores for ``envelope``: the same pseudonymised record, under its source."""
    from services.audit.app.handlers import pseudonymise
    from services.audit.domain.entry import AuditEntry

    event = envelope.data
    return AuditEntry(
        event_id=envelope.id,
        service=event.service,
        school_id=event.school_id,
        actor_id=event.actor_id,
        actor_role=event.actor_role,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        record=pseudonymise(event.model_dump(mode="json"), vault),
        reason=event.reason,
        occurred_at=event.occurred_at,
    )
