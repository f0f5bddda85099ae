"""The reliable handler: a failure lands in `<queue>.dlq` with the reason; nothing is acked silently."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.runtime.broker import Subscription, setup_broker, subscriptions_of
from services.runtime.handlers import HEADER_EXCEPTION, HEADER_MESSAGE, HEADER_QUEUE, ReliableEventHandler
from services.runtime.settings import get_settings
from tests.helpers import get_one, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

calls: list[str] = []


class FailingService:
    name = "failing"

    @ReliableEventHandler.decorator("emitter", AuditRecordedV1)
    def on_audit(self, envelope):
        calls.append(envelope.data.entity_id)
        raise ValueError(f"cannot handle {envelope.data.entity_id}; personal_id=001312012345")


QUEUE = Subscription("failing", "on_audit", "emitter", AuditRecordedV1).queue


def publish(amqp_uri: str, body, routing_key: str = AuditRecordedV1.routing_key()) -> None:
    with Connection(amqp_uri) as conn:
        Producer(conn.default_channel).publish(
            body,
            exchange=Exchange("emitter.events", type="topic", durable=True),
            routing_key=routing_key,
            serializer="json",
            declare=[Exchange("emitter.events", type="topic", durable=True)],
        )


def envelope(entity_id: str) -> dict:
    event = AuditRecordedV1(
        service="emitter",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, source_service="emitter").wire()


@pytest.fixture
def clean_queues(amqp_uri):
    with Connection(amqp_uri) as conn:
        for q in (QUEUE, QUEUE + ".dlq"):
            conn.default_channel.queue_delete(q)
    calls.clear()


def test_handler_that_raises_dead_letters_the_message_with_the_reason(amqp_uri, clean_queues):
    with running(FailingService, amqp_uri):
        publish(amqp_uri, envelope("e-1"))
        wait_for(lambda: queue_depth(amqp_uri, QUEUE + ".dlq") == 1, what="the message in the DLQ")
    assert calls == ["e-1"]  # handled once, not redelivered in a loop
    assert queue_depth(amqp_uri, QUEUE) == 0  # nothing left unacked behind: the consumer is stopped
    message = get_one(amqp_uri, QUEUE + ".dlq")
    headers = message.headers
    assert headers[HEADER_QUEUE] == QUEUE
    assert headers[HEADER_EXCEPTION] == "builtins.ValueError"
    assert "cannot handle e-1" in headers[HEADER_MESSAGE]
    assert "001312012345" not in headers[HEADER_MESSAGE]
    assert json.loads(message.body)["data"]["entity_id"] == "e-1"  # the original body, unchanged


def test_a_body_that_breaks_the_contract_is_dead_lettered_without_running_the_handler(amqp_uri, clean_queues):
    with running(FailingService, amqp_uri):
        publish(amqp_uri, {"id": "not-a-uuid", "data": {}})
        wait_for(lambda: queue_depth(amqp_uri, QUEUE + ".dlq") == 1, what="the poison message in the DLQ")
    assert calls == []
    assert get_one(amqp_uri, QUEUE + ".dlq").headers[HEADER_EXCEPTION].endswith("ValidationError")


def test_broker_setup_declares_queues_before_consumers_and_policies_route_rejects(amqp_uri, clean_queues):
    settings = get_settings()
    assert [s.queue for s in subscriptions_of(FailingService)] == [QUEUE]
    first = setup_broker(settings, [FailingService], ["emitter"])
    again = setup_broker(settings, [FailingService], ["emitter"])  # idempotent
    assert first["subscriptions"] == again["subscriptions"] == [QUEUE]
    # The consumer never ran, yet the event waits in its queue instead of being dropped by the exchange.
    publish(amqp_uri, envelope("early"))
    wait_for(lambda: queue_depth(amqp_uri, QUEUE) == 1, what="the event to wait in the declared queue")
    # A plain reject (what the handler falls back to) is routed to the DLQ by the policy alone.
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        message = wait_for(lambda: channel.basic_get(QUEUE, no_ack=False), what="a message")
        channel.basic_reject(message.delivery_tag, requeue=False)
    wait_for(lambda: queue_depth(amqp_uri, QUEUE + ".dlq") == 1, timeout=60, what="policy dead-lettering")
    dead = get_one(amqp_uri, QUEUE + ".dlq")
    assert dead.headers["x-death"][0]["queue"] == QUEUE
    assert dead.headers["x-death"][0]["reason"] == "rejected"
    assert uuid.UUID(json.loads(dead.body)["id"])
