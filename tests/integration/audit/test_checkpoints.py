"""Checkpoints: a timestamped chain head catches what the chain alone cannot, a log its owner rewrote consistently."""

from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

import sandbox.pki as pki
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app import handlers
from services.audit.app.checkpoints import take_checkpoints, take_due_checkpoints
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.audit.domain.chain import chain_key, checkpoint_digest, entry_hash
from services.audit.store.repository import AuditLog
from services.audit.store.tables import checkpoints
from services.runtime.consume import handle_once
from services.runtime.data_key import DataVault
from services.runtime.timestamps import KeptKeyTimeStamper, check_timestamp, timestamp
from tests.integration.audit.test_chain import as_owner, run_verify
from tests.integration.audit.test_chain import school_log as school_log  # the fixture

TSA = KeptKeyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())


def _checkpoint(engine, school) -> int:
    return take_checkpoints(sessionmaker(engine), TSA, school)


def test_a_checkpoint_is_a_genuine_timestamp_of_the_head_and_is_taken_once_per_move(school_log):
    engine, school = school_log
    assert _checkpoint(engine, school) == 1
    assert _checkpoint(engine, school) == 0  # the head has not moved
    with engine.connect() as conn:
        (point,) = conn.execute(
            select(checkpoints).where(checkpoints.c.chain == chain_key(school))
        ).mappings()
    digest = checkpoint_digest(point["chain"], point["chain_seq"], point["entry_hash"])
    assert point["chain_seq"] == 6 and check_timestamp(bytes(point["token"]), digest, [pki.root()]).valid
    assert not check_timestamp(bytes(point["token"]), b"\0" * 32, [pki.root()]).valid
    assert not check_timestamp(bytes(point["token"]), digest, [pki.certificate("root", "rogue")]).valid
    assert run_verify(school).exit_code == 0


def test_a_consistently_rewritten_log_passes_the_chain_but_not_its_checkpoint(school_log):
    engine, school = school_log
    _checkpoint(engine, school)
    chain = chain_key(school)
    # The owner edits entry 3 and recomputes every hash after it, and the head: the chain itself is whole again.
    as_owner(
        engine, f"update audit_entries set actor_id = 'ke-gian' where chain = '{chain}' and chain_seq = 3"
    )
    with sessionmaker(engine)() as session:
        entries = list(AuditLog(session).chained(chain))
    prev, fixes = entries[1].entry_hash, []
    for entry in entries[2:]:
        new = entry_hash(entry.content, entry.seq, prev)
        fixes.append(
            f"update audit_entries set prev_hash = '{prev}', entry_hash = '{new}' "
            f"where chain = '{chain}' and chain_seq = {entry.seq}"
        )
        prev = new
    as_owner(engine, *fixes)
    with engine.begin() as conn:
        conn.execute(text(f"update audit_chain_heads set last_hash = '{prev}' where chain = '{chain}'"))
    result = run_verify(school)
    assert result.exit_code == 1 and "rewritten" in result.output and "6" in result.output


def test_a_forged_checkpoint_is_named(school_log):
    engine, school = school_log
    _checkpoint(engine, school)
    chain = chain_key(school)
    forged = timestamp(TSA, b"\1" * 32)  # a genuine token, over something else
    with engine.begin() as conn:
        conn.execute(checkpoints.update().where(checkpoints.c.chain == chain).values(token=forged))
    result = run_verify(school)
    assert result.exit_code == 1 and "forged" in result.output


def test_a_lock_is_due_by_its_own_chains_checkpoint_not_another_schools(school_log):
    """Another school checkpointed further along (6) must not hide this school's lock at 2."""
    engine, busy = school_log
    assert _checkpoint(engine, busy) == 1  # at 6
    small = f"{busy}-small"
    for action in ("marks.record", "term.lock"):
        event = AuditRecordedV1(
            service="gradebook",
            school_id=small,
            actor_id="hieu-truong",
            actor_role="principal",
            action=action,
            entity_type="class_term",
            entity_id="class/c1/2025-2026/hk1",
            occurred_at=datetime.now(UTC),
        )
        handle_once(
            Envelope.wrap(event, source_service="gradebook"),
            handlers.CONSUMER,
            partial(AuditUnitOfWork, sessionmaker(engine)),
            partial(handlers.record, source="gradebook", vault=DataVault.from_settings()),
        )
    with sessionmaker(engine)() as session:
        assert chain_key(small) in AuditLog(session).chains_due("term.lock")
        assert chain_key(busy) not in AuditLog(session).chains_due("term.lock")
    take_due_checkpoints(sessionmaker(engine), TSA)
    with sessionmaker(engine)() as session:
        assert AuditLog(session).last_checkpoint(chain_key(small)) == 2
