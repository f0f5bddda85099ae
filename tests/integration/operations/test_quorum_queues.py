"""The platform on quorum queues (HOCBA_QUEUE_TYPE=quorum, as on the Kubernetes cluster), in this module's own vhost:
every durable queue is one, an event goes outbox → relay → handler through them, is retried through the quorum
`.retry` queue and dead-lettered into the quorum `.dlq`; and `hocba broker setup` changes a queue's type only when
that loses nothing. The rest of the suite runs on classic queues, the development default: why, in
services/runtime/queues.py."""

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from kombu import Connection, Producer
from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.main import app
from cli.registry import SERVICES
from contracts.audit import AuditRecordedV1
from services.gradebook.store.tables import outbox as outbox_table
from services.runtime import http_client
from services.runtime.broker import (
    KEPT_DELIVERY_LIMIT,
    platform_queues,
    setup_broker,
    subscriptions_of,
    vhost_of,
)
from services.runtime.db import make_engine, transaction
from services.runtime.dlq import show
from services.runtime.handlers import ReliableEventHandler
from services.runtime.outbox import Outbox
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from services.runtime.retry import attempts_made
from services.runtime.settings import Settings, get_settings
from tests.helpers import fail_as_the_entity_says, get_one, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

API = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")
TERM_LOCKED = "evt-gradebook-gradebook.term.locked.v1--transcript.on_term_locked"
BUDGET = 3
# The queue type as the cluster's containers get it (HOCBA_QUEUE_TYPE), and short retry waits.
QUORUM_CONTAINER = {
    "SETTINGS": {
        "queue_type": "quorum",
        "retry_attempts": BUDGET,
        "retry_base_seconds": 0.05,
        "retry_cap_seconds": 0.3,
    }
}

calls: list[tuple[str, int]] = []  # (entity id, attempt) for every run of the handler
handled: list[str] = []  # entity ids the handler got through


class Attempt(DependencyProvider):
    """Which attempt at its message the running handler is (nameko hands the message's headers to the worker)."""

    def get_dependency(self, worker_ctx):
        return attempts_made(worker_ctx.data) + 1


class QuorumFlow:
    """Consumes gradebook's audit events; fails as the entity id says: ``flaky-*`` twice (a serialization failure,
    transient) then passes, ``down-*`` always times out (transient, past its budget), ``bug-*`` is a bug."""

    name = "quorumflow"
    attempt = Attempt()

    @ReliableEventHandler.decorator("gradebook", AuditRecordedV1)
    def on_audit(self, envelope):
        entity = envelope.data.entity_id
        calls.append((entity, self.attempt))
        fail_as_the_entity_says(entity, self.attempt)
        handled.append(entity)


(FLOW,) = subscriptions_of(QuorumFlow)


def _quorum(amqp_uri: str) -> Settings:
    return Settings(amqp_uri=amqp_uri, queue_type="quorum")


def _queues(amqp_uri: str) -> dict[str, dict]:
    """Every queue on the vhost as the management API describes it (name, type, durable)."""
    vhost = quote(vhost_of(amqp_uri), safe="")
    with http_client.client(base_url=API, auth=AUTH, timeout=10) as api:
        response = api.get(f"/queues/{vhost}", params={"columns": "name,type,durable"})
        response.raise_for_status()
        return {q["name"]: q for q in response.json()}


def _queue(amqp_uri: str, name: str) -> dict:
    """One queue as the management API describes it: with its policy, which the list leaves out until the next
    statistics."""
    vhost = quote(vhost_of(amqp_uri), safe="")
    with http_client.client(base_url=API, auth=AUTH, timeout=10) as api:
        response = api.get(f"/queues/{vhost}/{quote(name, safe='')}")
        response.raise_for_status()
        return response.json()


def _declare(amqp_uri: str, queue_type: str, *names: str) -> None:
    """``names`` as durable queues of ``queue_type``, as a vhost set up with the other type holds them."""
    with Connection(amqp_uri) as conn:
        for name in names:
            conn.default_channel.queue_delete(name)
            conn.default_channel.queue_declare(
                name, durable=True, auto_delete=False, arguments={"x-queue-type": queue_type}
            )


def _audit_event(entity_id: str) -> AuditRecordedV1:
    return AuditRecordedV1(
        service="gradebook",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )


@pytest.fixture
def quorum_env(monkeypatch) -> Iterator[None]:
    """`hocba broker setup` as on the cluster: HOCBA_QUEUE_TYPE=quorum (the suite's own, said again here)."""
    yield from _queue_type_env(monkeypatch, "quorum")


@pytest.fixture
def classic_env(monkeypatch) -> Iterator[None]:
    """`hocba broker setup` as on a development broker: the default, classic."""
    yield from _queue_type_env(monkeypatch, "classic")


def _queue_type_env(monkeypatch, queue_type: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOCBA_QUEUE_TYPE", queue_type)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def gradebook_outbox(service_databases):
    engine = make_engine(service_databases["gradebook"])
    with engine.begin() as conn:
        conn.execute(outbox_table.delete())
    yield engine
    engine.dispose()


def test_the_development_default_is_classic_and_the_suite_runs_on_quorum():
    assert Settings.model_fields["queue_type"].default == "classic"
    assert Settings().queue_type == "quorum"  # tests/conftest.py: as on the cluster
    assert Settings(queue_type="classic").queue_type == "classic"


def test_every_durable_queue_of_the_platform_is_a_quorum_queue_when_the_setting_says_so(amqp_uri):
    classes = [*(e.load() for e in SERVICES.values()), QuorumFlow]
    setup_broker(_quorum(amqp_uri), classes, [*SERVICES, "emitter"])
    wanted = platform_queues(s for cls in classes for s in subscriptions_of(cls))
    queues = _queues(amqp_uri)
    assert set(wanted) <= set(queues)  # consumer queues, DLQs, retry queues and hocba.unrouted
    assert {name: q["type"] for name, q in queues.items() if q["durable"] and q["type"] != "quorum"} == {}


def test_an_event_goes_from_the_outbox_through_quorum_queues_to_its_handler_retried_and_dead_lettered(
    amqp_uri, gradebook_outbox
):
    setup_broker(_quorum(amqp_uri), [QuorumFlow], ["gradebook"])
    for name in platform_queues([FLOW]):
        with Connection(amqp_uri) as conn:
            conn.default_channel.queue_purge(name)
    calls.clear()
    handled.clear()
    outbox = Outbox("gradebook", outbox_table)
    with transaction(sessionmaker(gradebook_outbox)) as session:
        for entity in ("ok-1", "flaky-1", "down-1", "bug-1"):
            outbox.add(session, _audit_event(entity))
    with running(QuorumFlow, amqp_uri, **QUORUM_CONTAINER):
        relay = OutboxRelay("gradebook", gradebook_outbox, outbox_table, ConfirmingPublisher(amqp_uri))
        assert relay.relay_once() == 4  # published with publisher confirms
        wait_for(lambda: sorted(handled) == ["flaky-1", "ok-1"], what="the good and the flaky event handled")
        wait_for(lambda: queue_depth(amqp_uri, FLOW.dead_letter_queue) == 2, what="two dead letters")
        # nameko redeclared the consumer queue with the type setup gave it (or the broker would have refused it).
        assert {_queues(amqp_uri)[q]["type"] for q in platform_queues([FLOW])} == {"quorum"}
    assert [a for e, a in calls if e == "ok-1"] == [1]
    assert [a for e, a in calls if e == "flaky-1"] == [1, 2, 3]  # back twice through the quorum .retry queue
    assert [a for e, a in calls if e == "down-1"] == list(range(1, BUDGET + 1))
    assert [a for e, a in calls if e == "bug-1"] == [1]  # permanent: dead-lettered at once
    letters = {
        letter.body["data"]["entity_id"]: letter for letter in show(amqp_uri, FLOW.dead_letter_queue, 10)
    }
    assert sorted(letters) == ["bug-1", "down-1"]
    assert (letters["bug-1"].reason, letters["bug-1"].attempts) == ("ValueError", 1)
    assert (letters["down-1"].reason, letters["down-1"].attempts) == ("TimeoutError", BUDGET)
    # Each wait was the broker's: the message expired in the quorum retry queue (per-message TTL), which sent it back.
    (death,) = letters["down-1"].headers["x-death"]
    assert (death["queue"], death["reason"], death["count"]) == (FLOW.retry_queue, "expired", BUDGET - 1)
    assert queue_depth(amqp_uri, FLOW.queue) == 0 and queue_depth(amqp_uri, FLOW.retry_queue) == 0


def test_looking_at_dead_letters_again_and_again_never_drops_them(amqp_uri):
    """Each browse (`hocba dlq show` takes every message and closes its channel) counts a delivery in a quorum queue;
    RabbitMQ 4.0 drops a message past 20 by default. The DLQs' policy lifts the limit beyond any browsing."""
    setup_broker(_quorum(amqp_uri), [QuorumFlow], ["gradebook"])
    wait_for(
        lambda: (
            _queue(amqp_uri, FLOW.dead_letter_queue)
            .get("effective_policy_definition", {})
            .get("delivery-limit")
            == KEPT_DELIVERY_LIMIT
        ),
        timeout=15,
        what="the DLQ's delivery limit (applied with its policy)",
    )
    with Connection(amqp_uri) as conn:
        conn.default_channel.queue_purge(FLOW.dead_letter_queue)
        Producer(conn.default_channel).publish(
            {"dead": "letter"}, exchange="", routing_key=FLOW.dead_letter_queue, message_id="looked-at"
        )
    for _ in range(25):
        assert [letter.message_id for letter in show(amqp_uri, FLOW.dead_letter_queue, 10)] == ["looked-at"]


def test_setup_leaves_a_classic_queue_that_holds_a_message_and_says_what_to_do(amqp_uri, quorum_env):
    dlq = f"{TERM_LOCKED}.dlq"
    _declare(amqp_uri, "classic", TERM_LOCKED, dlq)
    try:
        with Connection(amqp_uri) as conn:
            Producer(conn.default_channel).publish(
                {"dead": "letter"}, exchange="", routing_key=dlq, delivery_mode=2, message_id="kept"
            )
        result = CliRunner().invoke(app, ["broker", "setup"])
        assert result.exit_code == 1, result.output
        assert "are not quorum queues and must become quorum queues" in result.output
        assert f"  {dlq}: classic, 1 message(s), 0 consumer(s)" in result.output
        assert (
            f"  {TERM_LOCKED}:" not in result.output
        )  # empty: not in the way, yet left too (all or nothing)
        assert "Drain them first" in result.output
        assert "Traceback" not in result.output
        queues = _queues(amqp_uri)
        assert (queues[TERM_LOCKED]["type"], queues[dlq]["type"]) == ("classic", "classic")  # nothing changed
        assert get_one(amqp_uri, dlq).properties["message_id"] == "kept"  # and nothing lost
    finally:
        with Connection(amqp_uri) as conn:
            for name in (TERM_LOCKED, dlq):
                conn.default_channel.queue_delete(name)


def test_setup_replaces_an_empty_classic_queue_by_a_quorum_queue_and_says_so(amqp_uri, quorum_env):
    _declare(amqp_uri, "classic", TERM_LOCKED)
    result = CliRunner().invoke(app, ["broker", "setup"])
    assert result.exit_code == 0, result.output
    assert f"{TERM_LOCKED}: was an empty classic queue; deleted and declared again as a quorum queue" in (
        result.output
    )
    assert _queues(amqp_uri)[TERM_LOCKED]["type"] == "quorum"
    again = CliRunner().invoke(app, ["broker", "setup"])  # idempotent: nothing left to replace
    assert again.exit_code == 0, again.output
    assert "was an empty" not in again.output


def test_setup_with_the_classic_default_replaces_an_empty_quorum_queue_left_from_before(
    amqp_uri, classic_env
):
    """A development vhost set up while quorum queues were everyone's default holds quorum queues; with the classic
    default, setup declares them anew as classic (when empty), so nameko's redeclarations match."""
    with Connection(amqp_uri) as conn:  # what the module's earlier tests left (the relayed events among them)
        for name in _queues(amqp_uri):
            conn.default_channel.queue_delete(name)
    _declare(amqp_uri, "quorum", TERM_LOCKED)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["broker", "setup"])
    assert result.exit_code == 0, result.output
    assert f"{TERM_LOCKED}: was an empty quorum queue; deleted and declared again as a classic queue" in (
        result.output
    )
    assert _queues(amqp_uri)[TERM_LOCKED]["type"] == "classic"
