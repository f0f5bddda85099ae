"""Every durable queue of the platform is a quorum queue (replicated: a node lost loses none of its messages), the
handlers consume from them, and `hocba broker setup` replaces a classic queue left from before only when that loses
nothing."""

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from kombu import Connection, Producer
from typer.testing import CliRunner

from cli.main import app
from cli.registry import SERVICES
from contracts.audit import AuditRecordedV1
from services.runtime import http_client
from services.runtime.broker import (
    KEPT_DELIVERY_LIMIT,
    platform_queues,
    setup_broker,
    subscriptions_of,
    vhost_of,
)
from services.runtime.dlq import show
from services.runtime.handlers import ReliableEventHandler
from services.runtime.settings import Settings
from tests.helpers import get_one, publish_event, running, wait_for

pytestmark = pytest.mark.integration

API = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")
TERM_LOCKED = "evt-gradebook-gradebook.term.locked.v1--transcript.on_term_locked"

handled: list[str] = []


class QuorumProbe:
    name = "quorumprobe"

    @ReliableEventHandler.decorator("emitter", AuditRecordedV1)
    def on_audit(self, envelope):
        handled.append(envelope.data.entity_id)


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


def _declare_classic(amqp_uri: str, *names: str) -> None:
    """``names`` as durable classic queues, as a vhost set up before quorum queues holds them."""
    with Connection(amqp_uri) as conn:
        for name in names:
            conn.default_channel.queue_delete(name)
            conn.default_channel.queue_declare(name, durable=True, auto_delete=False)


def _audit_event(entity_id: str) -> AuditRecordedV1:
    return AuditRecordedV1(
        service="emitter",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )


def test_every_durable_queue_is_a_quorum_queue_and_a_handler_consumes_from_it(amqp_uri):
    classes = [*(e.load() for e in SERVICES.values()), QuorumProbe]
    setup_broker(Settings(amqp_uri=amqp_uri), classes, [*SERVICES, "emitter"])
    wanted = platform_queues(s for cls in classes for s in subscriptions_of(cls))
    queues = _queues(amqp_uri)
    assert set(wanted) <= set(queues)  # consumer queues, DLQs, retry queues and hocba.unrouted
    assert {name: q["type"] for name, q in queues.items() if q["durable"] and q["type"] != "quorum"} == {}
    handled.clear()
    (probe,) = subscriptions_of(QuorumProbe)
    with running(QuorumProbe, amqp_uri):
        publish_event(amqp_uri, _audit_event("through-quorum"), "emitter")
        wait_for(lambda: handled == ["through-quorum"], what="the event handled from the quorum queue")
        # nameko redeclared the queue setup declared (same type, or the broker would refuse) and consumes it.
        consumed = _queues(amqp_uri)[probe.queue]
        assert consumed["type"] == "quorum"


def test_looking_at_dead_letters_again_and_again_never_drops_them(amqp_uri):
    """Each browse (`hocba dlq show` takes every message and closes its channel) counts a delivery in a quorum queue;
    RabbitMQ 4.0 drops a message past 20 by default. The DLQs' policy lifts the limit beyond any browsing."""
    classes = [QuorumProbe]
    setup_broker(Settings(amqp_uri=amqp_uri), classes, ["emitter"])
    (probe,) = subscriptions_of(QuorumProbe)
    wait_for(
        lambda: (
            _queue(amqp_uri, probe.dead_letter_queue)
            .get("effective_policy_definition", {})
            .get("delivery-limit")
            == KEPT_DELIVERY_LIMIT
        ),
        timeout=15,
        what="the DLQ's delivery limit (applied with its policy)",
    )
    with Connection(amqp_uri) as conn:
        conn.default_channel.queue_purge(probe.dead_letter_queue)
        Producer(conn.default_channel).publish(
            {"dead": "letter"}, exchange="", routing_key=probe.dead_letter_queue, message_id="looked-at"
        )
    for _ in range(25):
        assert [letter.message_id for letter in show(amqp_uri, probe.dead_letter_queue, 10)] == ["looked-at"]


def test_setup_leaves_a_classic_queue_that_holds_a_message_and_says_what_to_do(amqp_uri):
    dlq = f"{TERM_LOCKED}.dlq"
    _declare_classic(amqp_uri, TERM_LOCKED, dlq)
    try:
        with Connection(amqp_uri) as conn:
            Producer(conn.default_channel).publish(
                {"dead": "letter"}, exchange="", routing_key=dlq, delivery_mode=2, message_id="kept"
            )
        result = CliRunner().invoke(app, ["broker", "setup"])
        assert result.exit_code == 1, result.output
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


def test_setup_replaces_an_empty_classic_queue_by_a_quorum_queue_and_says_so(amqp_uri):
    _declare_classic(amqp_uri, TERM_LOCKED)
    result = CliRunner().invoke(app, ["broker", "setup"])
    assert result.exit_code == 0, result.output
    assert f"{TERM_LOCKED}: was an empty classic queue; deleted and declared again as a quorum queue" in (
        result.output
    )
    assert _queues(amqp_uri)[TERM_LOCKED]["type"] == "quorum"
    again = CliRunner().invoke(app, ["broker", "setup"])  # idempotent: nothing left to replace
    assert again.exit_code == 0, again.output
    assert "was an empty classic queue" not in again.output
