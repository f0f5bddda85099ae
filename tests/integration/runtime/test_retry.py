"""Retry, then dead-letter, on the real broker: a transient failure comes back through `<queue>.retry` until it
passes or its budget is spent; any other failure goes to `<queue>.dlq` at once."""

from datetime import UTC, datetime

import pytest
from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY

from contracts.audit import AuditRecordedV1
from services.runtime.broker import Subscription
from services.runtime.dlq import replay, show
from services.runtime.handlers import HEADER_EXCEPTION, HEADER_EXCHANGE, HEADER_QUEUE, ReliableEventHandler
from services.runtime.retry import HEADER_ATTEMPTS, attempts_made, history_of
from tests.helpers import fail_as_the_entity_says, get_one, publish_event, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

BUDGET = 4
# Short waits, so the test takes a second: the budget comes from the container's settings, as in production.
FAST = {"SETTINGS": {"retry_attempts": BUDGET, "retry_base_seconds": 0.05, "retry_cap_seconds": 0.3}}

calls: list[tuple[str, int]] = []  # (entity id, attempt) for every run of the handler
handled: list[str] = []  # entity ids the handler got through


class Attempt(DependencyProvider):
    """Which attempt at its message the running handler is (nameko hands the message's headers to the worker)."""

    def get_dependency(self, worker_ctx):
        return attempts_made(worker_ctx.data) + 1


class RetryingService:
    """Fails as the entity id says: ``flaky-*`` twice then passes, ``down-*`` always times out, ``bug-*`` is a bug."""

    name = "retrying"
    attempt = Attempt()

    @ReliableEventHandler.decorator("emitter", AuditRecordedV1)
    def on_audit(self, envelope):
        entity = envelope.data.entity_id
        calls.append((entity, self.attempt))
        fail_as_the_entity_says(entity, self.attempt, personal_id="001312012345")
        handled.append(entity)


QUEUE = Subscription("retrying", "on_audit", "emitter", AuditRecordedV1).queue
DLQ = f"{QUEUE}.dlq"
RETRY = f"{QUEUE}.retry"


def event(entity_id: str) -> AuditRecordedV1:
    return AuditRecordedV1(
        service="emitter",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )


def retried(error: str) -> float:
    labels = {"service": "retrying", "queue": QUEUE, "error": error}
    return REGISTRY.get_sample_value("hocba_events_retried_total", labels) or 0.0


@pytest.fixture
def clean(amqp_uri):
    with Connection(amqp_uri) as conn:
        for queue in (QUEUE, DLQ, RETRY):
            conn.default_channel.queue_delete(queue)
    calls.clear()
    handled.clear()


def test_a_handler_that_fails_transiently_twice_then_passes_is_handled_once_on_the_third_attempt(
    amqp_uri, clean
):
    before = retried("OperationalError")
    with running(RetryingService, amqp_uri, **FAST):
        publish_event(amqp_uri, event("flaky-1"), "emitter")
        wait_for(lambda: handled, what="the event handled")
    assert handled == ["flaky-1"]
    assert calls == [
        ("flaky-1", 1),
        ("flaky-1", 2),
        ("flaky-1", 3),
    ]  # the third delivery counted two before it
    assert retried("OperationalError") == before + 2
    for queue in (DLQ, RETRY, QUEUE):
        assert queue_depth(amqp_uri, queue) == 0, queue


def test_a_permanent_failure_is_dead_lettered_at_once_without_a_retry(amqp_uri, clean):
    before = retried("ValueError")
    with running(RetryingService, amqp_uri, **FAST):
        publish_event(amqp_uri, event("bug-1"), "emitter")
        wait_for(lambda: queue_depth(amqp_uri, DLQ) == 1, what="the message in the DLQ")
    assert calls == [("bug-1", 1)]
    assert retried("ValueError") == before
    assert queue_depth(amqp_uri, RETRY) == 0
    dead = get_one(amqp_uri, DLQ)
    assert dead.headers[HEADER_EXCEPTION] == "builtins.ValueError"
    assert dead.headers[HEADER_ATTEMPTS] == 1
    assert [h["error"] for h in history_of(dead.headers)] == ["builtins.ValueError"]
    assert "x-death" not in dead.headers  # never went round the retry queue


def test_a_transient_failure_that_outlasts_its_budget_is_dead_lettered_with_every_attempt(amqp_uri, clean):
    with running(RetryingService, amqp_uri, **FAST):
        published = publish_event(amqp_uri, event("down-1"), "emitter")
        wait_for(lambda: queue_depth(amqp_uri, DLQ) == 1, what="the message in the DLQ after its budget")
    assert calls == [("down-1", n) for n in range(1, BUDGET + 1)]
    assert queue_depth(amqp_uri, RETRY) == 0 and queue_depth(amqp_uri, QUEUE) == 0
    (letter,) = show(amqp_uri, DLQ, limit=10)  # what `hocba dlq show` prints
    assert letter.body["id"] == str(published.id)  # the original body, unchanged
    assert letter.failed_queue == QUEUE and letter.reason == "TimeoutError"
    assert letter.attempts == BUDGET
    assert [h["attempt"] for h in letter.history] == [str(n) for n in range(1, BUDGET + 1)]
    assert {h["error"] for h in letter.history} == {"builtins.TimeoutError"}
    assert all("down-1" in h["detail"] and "001312012345" not in h["detail"] for h in letter.history)
    assert letter.headers[HEADER_QUEUE] == QUEUE
    assert letter.headers[HEADER_EXCHANGE] == "emitter.events"  # where it first came from, not the retry's ""
    # Each wait was the broker's: the message expired in the retry queue, which sent it back.
    (death,) = letter.headers["x-death"]
    assert (death["queue"], death["reason"], death["count"]) == (RETRY, "expired", BUDGET - 1)


def test_a_replayed_dead_letter_gets_a_fresh_budget_and_keeps_its_history(amqp_uri, clean):
    with running(RetryingService, amqp_uri, **FAST):
        publish_event(amqp_uri, event("down-2"), "emitter")
        wait_for(lambda: queue_depth(amqp_uri, DLQ) == 1, what="the message in the DLQ after its budget")
        topology = [Subscription("retrying", "on_audit", "emitter", AuditRecordedV1)]
        assert replay(amqp_uri, DLQ, topology=topology, actor="ops").replayed
        wait_for(lambda: len(calls) == 2 * BUDGET and queue_depth(amqp_uri, DLQ) == 1, what="dead again")
    assert [attempt for _, attempt in calls] == [*range(1, BUDGET + 1)] * 2
    (letter,) = show(amqp_uri, DLQ, limit=10)
    assert letter.attempts == BUDGET and letter.replays == 1
    assert [h["attempt"] for h in letter.history] == [str(n) for n in range(1, BUDGET + 1)] * 2
