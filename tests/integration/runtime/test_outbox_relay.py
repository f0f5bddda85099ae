"""Outbox and relay against the real database and broker: rollback never publishes, commit publishes once."""

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from contracts.audit import AuditRecordedV1
from services.gradebook.store.tables import outbox as outbox_table
from services.runtime.db import make_engine, transaction
from services.runtime.outbox import Outbox
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from tests.factories import term_locked
from tests.helpers import tap_queue

pytestmark = pytest.mark.integration


def audit_event(n: int = 0) -> AuditRecordedV1:
    return AuditRecordedV1(
        service="gradebook",
        school_id="s1",
        actor_id="u1",
        actor_role="teacher",
        action="score.record",
        entity_type="score",
        entity_id=f"score-{n}",
        occurred_at=datetime.now(UTC),
    )


@pytest.fixture
def engine(service_databases):
    engine = make_engine(service_databases["gradebook"])
    with engine.begin() as conn:
        conn.execute(outbox_table.delete())
    yield engine
    engine.dispose()


@pytest.fixture
def tap(amqp_uri, unique):
    """A queue bound to gradebook.events for audit events."""
    with tap_queue(amqp_uri, f"tap-{unique}", "gradebook.events", AuditRecordedV1.routing_key()) as name:
        yield name


def drain(amqp_uri: str, queue: str) -> list:
    out = []
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        while (m := channel.basic_get(queue, no_ack=True)) is not None:
            out.append(m)
    return out


def make_relay(engine, amqp_uri, batch_size=200) -> OutboxRelay:
    return OutboxRelay(
        "gradebook", engine, outbox_table, ConfirmingPublisher(amqp_uri), batch_size=batch_size
    )


def test_event_in_a_rolled_back_transaction_is_never_published(engine, amqp_uri, tap):
    outbox = Outbox("gradebook", outbox_table)
    with pytest.raises(RuntimeError), transaction(sessionmaker(engine)) as session:
        outbox.add(session, audit_event())
        raise RuntimeError("business rule failed after the event was staged")
    relay = make_relay(engine, amqp_uri)
    assert relay.relay_once() == 0
    assert drain(amqp_uri, tap) == []


def test_committed_event_is_published_once_with_its_envelope(engine, amqp_uri, tap):
    outbox = Outbox("gradebook", outbox_table)
    with transaction(sessionmaker(engine)) as session:
        envelope = outbox.add(session, audit_event(), subject="score/1", correlation_id="req-1")
    relay = make_relay(engine, amqp_uri)
    assert relay.relay_once() == 1
    assert relay.relay_once() == 0
    (message,) = drain(amqp_uri, tap)
    body = json.loads(message.body)
    assert body["id"] == str(envelope.id) and body["type"] == "vn.hocba.audit.recorded.v1"
    assert body["correlationid"] == "req-1" and body["data"]["entity_id"] == "score-0"
    assert message.properties["message_id"] == str(envelope.id)
    assert message.properties["delivery_mode"] == 2
    assert relay.pending() == (0, 0.0)


def test_several_relay_replicas_share_the_outbox_without_duplicates(engine, amqp_uri, tap):
    outbox = Outbox("gradebook", outbox_table)
    factory = sessionmaker(engine)
    for chunk in range(10):
        with transaction(factory) as session:
            for n in range(60):
                outbox.add(session, audit_event(chunk * 60 + n))
    relays = [make_relay(engine, amqp_uri, batch_size=25) for _ in range(3)]
    stop = threading.Event()

    def work(relay):
        while relay.relay_once():
            pass

    threads = [threading.Thread(target=work, args=(r,)) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    ids = [m.properties["message_id"] for m in drain(amqp_uri, tap)]
    assert len(ids) == 600 and len(set(ids)) == 600
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(outbox_table.c.published_at.is_(None))).scalar() == 0


def test_public_projection_goes_to_the_public_exchange_as_binary_cloudevent(engine, amqp_uri, unique):
    public = Queue(
        f"vendor-{unique}",
        Exchange("hocba.public", type="topic", durable=True),
        routing_key="vn.hocba.gradebook.#",
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as conn:
        public.declare(channel=conn.default_channel)
    event = term_locked(class_name="9A", locked_by="p1")
    with transaction(sessionmaker(engine)) as session:
        envelope = Outbox("gradebook", outbox_table).add(session, event, subject="class/c1")
    make_relay(engine, amqp_uri).relay_once()
    (message,) = drain(amqp_uri, public.name)
    headers = message.headers
    assert headers["ce-id"] == str(envelope.id) and headers["ce-type"] == "vn.hocba.gradebook.term.locked.v1"
    assert headers["ce-specversion"] == "1.0" and headers["ce-subject"] == "class/c1"
    assert json.loads(message.body) == {
        "school_id": "s1",
        "class_id": "c1",
        "school_year": "2025-2026",
        "term": "hk2",
        "locked_at": event.locked_at.isoformat().replace("+00:00", "Z"),
        "student_count": 0,
        "content_hash": "0" * 64,
    }
    assert uuid.UUID(headers["ce-id"])
