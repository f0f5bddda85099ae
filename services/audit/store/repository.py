"""Appending to the hash-chained audit log and reading it back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from contracts.audit import EntityType, actions_on, amendment_prefix, class_term_pattern
from services.audit.domain.chain import GENESIS, ChainedEntry, chain_key, entry_hash
from services.audit.domain.entry import AuditEntry
from services.audit.domain.model import ChainHead, Checkpoint, RecordedEntry
from services.audit.store.tables import audit_entries, chain_heads, checkpoints

CONTENT_COLUMNS = (
    "event_id",
    "service",
    "school_id",
    "actor_id",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "record",
    "reason",
    "occurred_at",
)


# The append's two statements, built once and run with each entry's values (building them per entry cost the
# audit consumer more CPU than running them). A new chain's head is created, an existing one is locked by the no-op
# update (as SELECT … FOR UPDATE would) and returned as last committed.
_OPEN_HEAD = (
    pg_insert(chain_heads)
    .values(chain=bindparam("head"), last_seq=0, last_hash=GENESIS)
    .on_conflict_do_update(index_elements=[chain_heads.c.chain], set_={"last_seq": chain_heads.c.last_seq})
    .returning(chain_heads.c.last_seq, chain_heads.c.last_hash)
)
_ENTRY_COLUMNS = (*CONTENT_COLUMNS, "chain", "chain_seq", "prev_hash", "entry_hash")
# The entry and the head's move to it in one round trip (PostgreSQL runs a data-modifying CTE whether or not it is
# referred to). Parameters are the columns' names prefixed with "e_" (SQLAlchemy keeps the bare names for itself).
_ADD_AND_ADVANCE = (
    update(chain_heads)
    .where(chain_heads.c.chain == bindparam("e_chain"))
    .values(last_seq=bindparam("e_chain_seq"), last_hash=bindparam("e_entry_hash"))
    .add_cte(
        insert(audit_entries)
        .values({name: bindparam(f"e_{name}", type_=audit_entries.c[name].type) for name in _ENTRY_COLUMNS})
        .cte("added")
    )
)


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> int:
        """Append at the end of the entry's chain; returns its sequence number.

        The chain head row is locked for the rest of the transaction, so concurrent appenders to one school
        queue up: one order, no gaps (a rolled-back append gives its number back with the head update).
        """
        chain = chain_key(entry.school_id)
        head = self.session.execute(_OPEN_HEAD, {"head": chain}).one()
        seq, prev = int(head.last_seq) + 1, str(head.last_hash)
        sealed = entry_hash(entry.content(), seq, prev)
        values = {**entry.__dict__, "chain": chain, "chain_seq": seq, "prev_hash": prev, "entry_hash": sealed}
        self.session.execute(_ADD_AND_ADVANCE, {f"e_{name}": value for name, value in values.items()})
        return seq

    def chains(self, school_id: str | None = None) -> list[ChainHead]:
        stmt = select(chain_heads.c.chain, chain_heads.c.last_seq, chain_heads.c.last_hash).order_by(
            chain_heads.c.chain
        )
        if school_id is not None:
            stmt = stmt.where(chain_heads.c.chain == chain_key(school_id))
        return [ChainHead(**r._mapping) for r in self.session.execute(stmt)]

    def chained(
        self, chain: str, recorded_between: tuple[datetime, datetime] | None = None
    ) -> Iterator[ChainedEntry]:
        """The stored entries of one chain in stored order, streamed (a school's year can be millions).

        ``recorded_between`` keeps the contiguous run of entries recorded in that time range.
        """
        query = select(audit_entries).where(audit_entries.c.chain == chain)
        if recorded_between is not None:
            first, last = self.session.execute(
                select(func.min(audit_entries.c.chain_seq), func.max(audit_entries.c.chain_seq)).where(
                    audit_entries.c.chain == chain,
                    audit_entries.c.recorded_at >= recorded_between[0],
                    audit_entries.c.recorded_at < recorded_between[1],
                )
            ).one()
            if first is None:
                return
            query = query.where(audit_entries.c.chain_seq.between(first, last))
        rows = self.session.execute(
            query.order_by(audit_entries.c.chain_seq).execution_options(yield_per=2000)
        ).mappings()
        for row in rows:
            entry = AuditEntry(**{c: row[c] for c in CONTENT_COLUMNS})
            yield ChainedEntry(row["chain_seq"], entry.content(), row["prev_hash"], row["entry_hash"])

    def chains_due(self, action: str) -> list[str]:
        """Chains with an ``action`` entry after their last checkpoint (a term lock not yet timestamped).

        Only entries after the last checkpoint are looked at, and the periodic checkpoint keeps those few.
        """
        t = audit_entries
        last = (
            select(func.coalesce(func.max(checkpoints.c.chain_seq), 0))
            .where(checkpoints.c.chain == chain_heads.c.chain)
            .correlate(chain_heads)  # also inside the EXISTS below: the head's own chain, never all chains'
            .scalar_subquery()
        )
        pending = select(t.c.chain_seq).where(t.c.chain == chain_heads.c.chain, t.c.chain_seq > last)
        stmt = (
            select(chain_heads.c.chain)
            .where(chain_heads.c.last_seq > last, pending.where(t.c.action == action).exists())
            .order_by(chain_heads.c.chain)
        )
        return list(self.session.execute(stmt).scalars())

    def entry_hash_at(self, chain: str, seq: int) -> str | None:
        return self.session.execute(
            select(audit_entries.c.entry_hash).where(
                audit_entries.c.chain == chain, audit_entries.c.chain_seq == seq
            )
        ).scalar_one_or_none()

    def last_checkpoint(self, chain: str) -> int:
        return int(
            self.session.execute(
                select(func.coalesce(func.max(checkpoints.c.chain_seq), 0)).where(
                    checkpoints.c.chain == chain
                )
            ).scalar_one()
        )

    def add_checkpoint(
        self, chain: str, seq: int, entry_hash: str, token: bytes, stamped_at: datetime | None
    ) -> None:
        self.session.execute(
            pg_insert(checkpoints)
            .values(chain=chain, chain_seq=seq, entry_hash=entry_hash, token=token, stamped_at=stamped_at)
            .on_conflict_do_nothing()
        )

    def checkpoints_of(self, chain: str) -> list[Checkpoint]:
        rows = self.session.execute(
            select(checkpoints).where(checkpoints.c.chain == chain).order_by(checkpoints.c.chain_seq)
        )
        return [Checkpoint(**r._mapping) for r in rows]  # psycopg 3 reads bytea as bytes

    def count_for_school(self, school_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count()).select_from(audit_entries).where(audit_entries.c.school_id == school_id)
            ).scalar_one()
        )

    def query(
        self,
        school_id: str,
        *,
        student_id: str | None = None,
        actor_id: str | None = None,
        entity_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[RecordedEntry]:
        """One school's entries in chain order, filtered; page with ``after_seq`` (keyset, stable under appends)."""
        t = audit_entries
        stmt = select(t).where(t.c.chain == chain_key(school_id), t.c.chain_seq > after_seq)
        if student_id:
            stmt = stmt.where(t.c.entity_id.contains(f"/student/{student_id}/"))
        if actor_id:
            stmt = stmt.where(t.c.actor_id == actor_id)
        if entity_id:
            stmt = stmt.where(t.c.entity_id.startswith(entity_id))
        if action:
            stmt = stmt.where(t.c.action.startswith(action))
        if since:
            stmt = stmt.where(t.c.occurred_at >= since)
        if until:
            stmt = stmt.where(t.c.occurred_at < until)
        rows = self.session.execute(stmt.order_by(t.c.chain_seq).limit(limit))
        return [RecordedEntry(**r._mapping) for r in rows]

    def value_history(self, school_id: str, value_id: str, class_id: str, term: str) -> list[RecordedEntry]:
        """Entries of one grade value, its amendments and its class's locks of that term, in chain order."""
        t = audit_entries
        chain = t.c.chain == chain_key(school_id)
        term_prefix, term_suffix = class_term_pattern(class_id=class_id, term=term)
        lock = and_(
            t.c.entity_type == EntityType.CLASS_TERM.value,
            t.c.entity_id.startswith(term_prefix, autoescape=True),
            t.c.entity_id.endswith(term_suffix, autoescape=True),
        )
        value = or_(
            t.c.entity_id == value_id, t.c.entity_id.startswith(amendment_prefix(value_id), autoescape=True)
        )
        rows = [
            RecordedEntry(**r._mapping)
            for r in self.session.execute(select(t).where(chain, or_(value, lock)))
        ]
        # Amendments recorded before their events carried the value's id: found through the value's own entries.
        ids = {r.record.get("amendment_id") for r in rows} - {None}
        if ids:
            seen = {r.seq for r in rows}
            legacy = select(t).where(
                chain,
                t.c.action.in_(sorted(a.value for a in actions_on(EntityType.AMENDMENT))),
                t.c.record["amendment_id"].astext.in_(ids),
            )
            rows += [RecordedEntry(**r._mapping) for r in self.session.execute(legacy) if r.seq not in seen]
        return sorted(rows, key=lambda r: r.chain_seq)
