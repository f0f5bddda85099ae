"""Outbox and relay against the real database and broker: rollback never publishes, commit publishes once."""

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.main import app
from contracts.audit import AuditRecordedV1
from services.gradebook.store.tables import outbox as outbox_table
from services.runtime.db import make_engine, transaction
from services.runtime.outbox import Outbox
from services.runtime.relay import PARK_AFTER, ConfirmingPublisher, OutboxRelay, release_parked
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


def _staged(engine, count: int) -> list[str]:
    """``count`` audit events committed to the outbox; their event ids, in order."""
    outbox = Outbox("gradebook", outbox_table)
    with transaction(sessionmaker(engine)) as session:
        return [str(outbox.add(session, audit_event(n)).id) for n in range(count)]


def _refuse(engine, event_id: str) -> None:
    """Point one row at an exchange the broker refuses to declare (``amq.`` names are reserved: ACCESS_REFUSED
    closes the channel), as a row for an exchange this relay may not use would be."""
    with engine.begin() as conn:
        conn.execute(
            outbox_table.update()
            .where(outbox_table.c.event_id == event_id)
            .values(exchange="amq.hocba-refused")
        )


def test_a_row_the_broker_refuses_holds_back_no_other_and_is_parked_then_released(engine, amqp_uri, tap):
    first, bad, last = _staged(engine, 3)
    _refuse(engine, bad)
    relay = make_relay(engine, amqp_uri)

    # The batch is refused; each row alone: the two good ones go out (one may go twice: it was confirmed in the
    # refused batch too; duplicates are the relay's contract, inboxes absorb them), the bad one is counted.
    assert relay.relay_once() == 2
    assert set(m.properties["message_id"] for m in drain(amqp_uri, tap)) == {first, last}
    row = lambda: _row(engine, bad)  # noqa: E731
    assert row().attempts == 1 and "ACCESS_REFUSED" in row().last_error and row().published_at is None

    # Tried again, alone, until it is parked: then no longer picked, and counted apart from the relay's lag.
    for tries in range(2, PARK_AFTER + 1):
        assert relay.relay_once() == 0
        assert row().attempts == tries
    assert relay.relay_once() == 0 and row().attempts == PARK_AFTER  # parked: not tried again
    assert relay.parked() == 1 and relay.pending() == (0, 0.0)

    # Behind it, new rows flow as before.
    (later,) = _staged(engine, 1)
    assert relay.relay_once() == 1
    assert [m.properties["message_id"] for m in drain(amqp_uri, tap)] == [later]

    # Once the cause is fixed, an operator releases it and it goes out.
    with engine.begin() as conn:
        conn.execute(
            outbox_table.update().where(outbox_table.c.event_id == bad).values(exchange="gradebook.events")
        )
    listed = CliRunner().invoke(app, ["outbox", "parked", "gradebook"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0 and bad in listed.output and "ACCESS_REFUSED" in listed.output, listed.output
    released = CliRunner().invoke(app, ["outbox", "release", "gradebook", "--event-id", bad])
    assert released.exit_code == 0 and "1 parked row(s) released" in released.output, released.output
    assert release_parked(engine, outbox_table, bad) == 0  # nothing parked is left to release
    assert relay.relay_once() == 1 and relay.parked() == 0
    assert [m.properties["message_id"] for m in drain(amqp_uri, tap)] == [bad]


def test_a_lost_broker_parks_no_row(engine, amqp_uri, tap):
    """An outage is nobody's row's fault: however often the relay fails on it, the rows are only annotated."""
    (event_id,) = _staged(engine, 1)
    relay = make_relay(engine, amqp_uri)
    for _ in range(PARK_AFTER + 2):
        relay.record_failure(ConnectionError("broker unreachable"))
    assert _row(engine, event_id).attempts == 0 and relay.parked() == 0
    assert "broker unreachable" in _row(engine, event_id).last_error
    assert relay.relay_once() == 1


def _row(engine, event_id: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(outbox_table).where(outbox_table.c.event_id == event_id)).one()
