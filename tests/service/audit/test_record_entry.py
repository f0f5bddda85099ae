"""Audit events fed straight to the audit handler: each recorded once, chained to the one before, and the chain's
head timestamped by FakeTimestamper (no TSA process), or left for the next round while the TSA is down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy.orm import sessionmaker

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from sandbox import pki
from services.audit.app.checkpoints import take_checkpoints, verify_checkpoints
from services.audit.app.handlers import CONSUMER, record
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.audit.domain.chain import GENESIS, entry_hash, verify
from services.audit.store.repository import AuditLog
from services.runtime.consume import handle_once
from services.runtime.data_key import DataVault
from services.runtime.timestamps import FakeTimestamper
from tests.service.support import database, units_of_work

pytestmark = pytest.mark.integration  # the audit database only

START = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)


engine = database("audit")


def marks_recorded(school: str, n: int, **changes: object) -> Envelope[AuditRecordedV1]:
    event = AuditRecordedV1(
        **{
            "service": "gradebook",
            "school_id": school,
            "actor_id": f"gv-{n}",
            "actor_role": "teacher",
            "action": "marks.record",
            "entity_type": "marks",
            "entity_id": f"class/c1/student/s{n}/toan/hk1",
            "changes": {"final": f"{n} → {n + 1}"},
            "occurred_at": START + timedelta(minutes=n),
            **changes,
        }
    )
    return Envelope.wrap(event, source_service="gradebook")


def consume(delivery: Envelope[AuditRecordedV1], engine, source: str = "gradebook") -> bool:
    """What `AuditService`'s consumers do with a delivery from ``source``'s exchange, minus the broker."""
    return handle_once(
        delivery,
        CONSUMER,
        units_of_work(AuditUnitOfWork, engine, []),
        partial(record, source=source, vault=DataVault.from_settings()),
    )


def chain_of(engine, school: str) -> list:
    with sessionmaker(engine)() as session:
        return list(AuditLog(session).chained(school))


def test_each_event_is_recorded_once_and_chained_to_the_one_before(engine):
    school = f"s-{uuid.uuid4().hex[:8]}"
    first, second = marks_recorded(school, 1), marks_recorded(school, 2)

    assert consume(first, engine)
    assert consume(second, engine)
    assert not consume(first, engine)  # redelivered: claimed already

    entries = chain_of(engine, school)
    assert [(e.seq, e.content["event_id"]) for e in entries] == [(1, str(first.id)), (2, str(second.id))]
    assert entries[0].prev_hash == GENESIS
    assert entries[1].prev_hash == entries[0].entry_hash
    for e in entries:
        assert e.entry_hash == entry_hash(e.content, e.seq, e.prev_hash)
    assert verify(entries) is None


def test_an_entry_keeps_no_personal_value_and_is_recorded_under_the_service_it_came_from(engine):
    school = f"s-{uuid.uuid4().hex[:8]}"
    forged = marks_recorded(school, 1, service="signing", changes={"personal_id": "001312345678"})

    assert consume(forged, engine, source="gradebook")

    (entry,) = chain_of(engine, school)
    assert entry.content["service"] == "gradebook"
    assert entry.content["record"]["claimed_service"] == "signing"
    assert entry.content["record"]["changes"]["personal_id"].startswith("hmac:")
    assert "001312345678" not in str(entry.content)


def test_the_chain_head_is_timestamped_and_a_tsa_outage_leaves_it_for_the_next_round(engine):
    school = f"s-{uuid.uuid4().hex[:8]}"
    tsa = FakeTimestamper(pki.certificate("tsa"), pki.tsa_key_info())
    sessions = sessionmaker(engine)
    for n in (1, 2, 3):
        assert consume(marks_recorded(school, n), engine)

    tsa.down = True
    assert take_checkpoints(sessions, tsa, school) == 0
    tsa.down = False
    assert take_checkpoints(sessions, tsa, school) == 1
    assert take_checkpoints(sessions, tsa, school) == 0  # the head has not moved since

    with sessions() as session:
        audit_log = AuditLog(session)
        (point,) = audit_log.checkpoints_of(school)
        assert (point.chain_seq, point.entry_hash) == (3, chain_of(engine, school)[-1].entry_hash)
        assert verify_checkpoints(audit_log, school, [pki.root()]) is None
        assert (
            verify_checkpoints(audit_log, school, []) is not None
        )  # the token proves only under the TSA's root
    assert tsa.requests == 1
