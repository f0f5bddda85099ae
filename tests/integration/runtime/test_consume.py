"""The runtime consumes events: each exactly once, a failure rolled back and dead-lettered, the ids in every log line.

A probe service on a real broker and a real database (the audit service's tables, which have the runtime's inbox
and outbox); its handler holds nothing but its logic, as a service's does.
"""

import io
import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.store.tables import inbox, outbox
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.handlers import reliable_handler
from services.runtime.inbox import Inbox
from services.runtime.logging import configure_logging, get_logger
from services.runtime.metrics import EVENTS_DEAD_LETTERED, EVENTS_HANDLED
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork
from tests.helpers import get_one, purge, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

log = get_logger(__name__)
CONSUMER = "probe.record"
calls: list[str] = []  # the entity id of each event the probe's handler ran on

failing: set[str] = set()
sessions: dict[str, sessionmaker] = {}


def consumer_of(event: AuditRecordedV1) -> str | None:
    return None if event.action == "ignored" else CONSUMER


class ProbeService:
    name = "probe"

    def unit_of_work(self, *, correlation_id: str | None = None) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            sessions["audit"], Outbox("probe", outbox), Inbox(inbox), correlation_id=correlation_id
        )

    @reliable_handler("emitter", AuditRecordedV1, consumer=consumer_of)
    def on_event(self, envelope: Envelope[AuditRecordedV1], uow: SqlUnitOfWork) -> None:
        calls.append(envelope.data.entity_id)
        log.info("probe.handling", entity=envelope.data.entity_id)
        uow.emit(_event(f"{envelope.data.entity_id}-echo", "echo"))  # reaches the outbox only with the commit
        if envelope.data.entity_id in failing:
            raise RuntimeError(f"cannot handle {envelope.data.entity_id}")


(SUBSCRIPTION,) = subscriptions_of(ProbeService)
QUEUE = SUBSCRIPTION.queue
EXCHANGE = Exchange("emitter.events", type="topic", durable=True)


def _event(entity_id: str, action: str = "x") -> AuditRecordedV1:
    return AuditRecordedV1(
        service="emitter",
        actor_id="u",
        actor_role="teacher",
        action=action,
        entity_type="t",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )


def publish(amqp_uri: str, body: dict) -> None:
    with Connection(amqp_uri) as conn:
        Producer(conn.default_channel).publish(
            body,
            exchange=EXCHANGE,
            routing_key=AuditRecordedV1.routing_key(),
            serializer="json",
            declare=[EXCHANGE],
        )


@pytest.fixture
def probe(amqp_uri, service_databases):
    engine = make_engine(service_databases["audit"], pool_size=2)
    sessions["audit"] = sessionmaker(engine)
    with Connection(amqp_uri) as conn:
        for q in (QUEUE, QUEUE + ".dlq"):
            conn.default_channel.queue_delete(q)
    calls.clear()
    failing.clear()
    yield engine
    engine.dispose()


def claims(engine, event_id) -> list[str]:
    with engine.connect() as db:
        return list(
            db.execute(select(inbox.c.consumer).where(inbox.c.event_id == uuid.UUID(str(event_id)))).scalars()
        )


def echoes(engine, entity_id: str) -> list[dict]:
    with engine.connect() as db:
        bodies = db.execute(
            select(outbox.c.body).where(outbox.c.routing_key == AuditRecordedV1.routing_key())
        )
        return [b for b in bodies.scalars() if b["data"]["entity_id"] == f"{entity_id}-echo"]


def handled_count() -> float:
    return EVENTS_HANDLED.labels("probe", QUEUE)._value.get()


def test_a_redelivered_event_runs_the_handler_once(amqp_uri, probe):
    body = Envelope.wrap(_event("twice"), source_service="emitter", correlation_id="req-1").wire()
    before = handled_count()
    with running(ProbeService, amqp_uri):
        publish(amqp_uri, body)
        publish(amqp_uri, body)  # a redelivery after a lost ack looks exactly like this
        wait_for(lambda: handled_count() - before >= 2, what="both deliveries acked")
    assert calls == ["twice"]
    assert claims(probe, body["id"]) == [CONSUMER]
    (echo,) = echoes(probe, "twice")  # committed once, under the correlation id of the event that caused it
    assert echo["correlationid"] == "req-1"


def test_a_failing_handler_leaves_no_claim_and_its_replay_is_handled(amqp_uri, probe):
    body = Envelope.wrap(_event("flaky"), source_service="emitter").wire()
    failing.add("flaky")
    dead_before = EVENTS_DEAD_LETTERED.labels("probe", QUEUE)._value.get()
    with running(ProbeService, amqp_uri):
        publish(amqp_uri, body)
        wait_for(
            lambda: EVENTS_DEAD_LETTERED.labels("probe", QUEUE)._value.get() > dead_before,
            what="a dead letter",
        )
        assert queue_depth(amqp_uri, QUEUE + ".dlq") == 1
        assert calls == ["flaky"]
        assert claims(probe, body["id"]) == []  # rolled back with the handler's writes...
        assert echoes(probe, "flaky") == []
        failing.clear()  # ...so once the cause is fixed, the replayed message is handled
        before = handled_count()
        publish(amqp_uri, json.loads(get_one(amqp_uri, QUEUE + ".dlq").body))
        wait_for(lambda: handled_count() - before >= 1, what="the replay handled")
    assert calls == ["flaky", "flaky"]
    assert claims(probe, body["id"]) == [CONSUMER]
    assert len(echoes(probe, "flaky")) == 1


def test_an_event_the_consumer_ignores_is_acked_unclaimed(amqp_uri, probe):
    body = Envelope.wrap(_event("skip", action="ignored"), source_service="emitter").wire()
    before = handled_count()
    with running(ProbeService, amqp_uri):
        publish(amqp_uri, body)
        wait_for(lambda: handled_count() - before >= 1, what="the event acked")
    assert calls == []
    assert claims(probe, body["id"]) == []
    purge(amqp_uri, QUEUE)


@pytest.fixture
def log_stream():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("probe", stream=stream)
    yield stream
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_the_handlers_log_lines_carry_the_event_and_correlation_ids(amqp_uri, probe, log_stream):
    body = Envelope.wrap(_event("traced"), source_service="emitter", correlation_id="req-42").wire()
    before = handled_count()
    with running(ProbeService, amqp_uri):
        publish(amqp_uri, body)
        wait_for(lambda: handled_count() - before >= 1, what="the event handled")
    stream = log_stream
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    (handling,) = [line for line in lines if line.get("event") == "probe.handling"]
    assert handling["event_id"] == body["id"]
    assert handling["correlation_id"] == "req-42"
