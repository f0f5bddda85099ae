"""Least privilege on the broker, enforced by RabbitMQ itself: each user gets exactly its row of the table."""

import json
import secrets
import uuid
from datetime import UTC, datetime

import amqp
import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue

from cli.registry import SERVICES
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.runtime.broker import declare_topology, subscriptions_of
from services.runtime.broker_access import (
    apply_grants,
    delete_users,
    permission_table,
    service_grant,
    vendor_grant,
)
from services.runtime.handlers import reliable_handler
from services.runtime.relay import ConfirmingPublisher, OutgoingMessage
from services.runtime.settings import Settings
from tests.conftest import RUN, TEST_VHOST
from tests.helpers import get_one, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
VHOST = f"{RUN}_perms"
ADMIN_URI = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
SETTINGS = Settings(amqp_uri=ADMIN_URI, rabbit_management_url=MANAGEMENT)
SUBSCRIPTIONS = [s for e in SERVICES.values() for s in subscriptions_of(e.load())]
TERM_LOCKED = "evt-gradebook-gradebook.term.locked.v1--transcript.on_term_locked"
VENDOR = "acme"

probe_calls: list[str] = []


class ProbeService:
    """A consumer of gradebook's audit events that fails on request: runs under nothing but its own grant."""

    name = "probe"

    @reliable_handler("gradebook", AuditRecordedV1)
    def on_audit(self, envelope):
        probe_calls.append(envelope.data.entity_id)
        if envelope.data.entity_id.startswith("fail"):
            raise ValueError("simulated bug")


PROBE = subscriptions_of(ProbeService)


@pytest.fixture(scope="module")
def users():
    """Per-service users and one vendor on a private vhost, named for this checkout (users are cluster-wide)."""
    from services.runtime.broker import recreate_vhost

    recreate_vhost(MANAGEMENT, VHOST)
    declare_topology(ADMIN_URI, [*SUBSCRIPTIONS, *PROBE], SERVICES, SETTINGS)
    table = permission_table(SUBSCRIPTIONS, SERVICES, SETTINGS)
    table["probe"] = service_grant("probe", PROBE, SETTINGS)
    table[f"vendor-{VENDOR}"] = vendor_grant(VENDOR, SETTINGS)
    accounts = {name: (f"{TEST_VHOST}-{name}", secrets.token_urlsafe(16)) for name in table}
    apply_grants(MANAGEMENT, VHOST, {user: (table[name], pw) for name, (user, pw) in accounts.items()})
    yield {name: f"amqp://{user}:{pw}@127.0.0.1:5672/{VHOST}" for name, (user, pw) in accounts.items()}
    delete_users(MANAGEMENT, [user for user, _ in accounts.values()])


def audit_envelope(entity_id: str) -> bytes:
    """What gradebook's relay publishes for an audit event (the envelope as the JSON body)."""
    event = AuditRecordedV1(
        service="gradebook",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )
    return json.dumps(Envelope.wrap(event, source_service="gradebook").wire()).encode()


def message(exchange: str, routing_key: str, body: bytes = b"{}") -> OutgoingMessage:
    return OutgoingMessage(str(uuid.uuid4()), exchange, routing_key, body, {})


def refused(error: pytest.ExceptionInfo[AccessRefused], method: str, resource: str) -> bool:
    """The broker's own refusal: 403 ACCESS_REFUSED on that method, naming that resource."""
    text = str(error.value)
    return error.value.code == 403 and text.startswith(method) and f"access to {resource}" in text


def test_publishing_to_another_services_exchange_is_refused_by_the_broker(users):
    with Connection(users["gradebook"]) as conn:
        channel = conn.channel()
        channel.confirm_select()
        with pytest.raises(AccessRefused) as error:
            channel.basic_publish(amqp.Message(b"{}"), exchange="transcript.events", routing_key="x.v1")
            conn.drain_events(timeout=5)
    assert refused(error, "Basic.publish", "exchange 'transcript.events'"), str(error.value)
    # The relay's own path (declare, then publish with confirms) is refused just the same.
    publisher = ConfirmingPublisher(users["gradebook"], confirm_timeout=5)
    with pytest.raises(AccessRefused):
        publisher.publish_batch([message("transcript.events", "transcript.sealed.v1")])
    publisher.close()


def test_the_relay_publishes_to_its_own_exchange_and_the_public_one(users):
    publisher = ConfirmingPublisher(users["gradebook"], confirm_timeout=5)
    before = queue_depth(ADMIN_URI, TERM_LOCKED)
    publisher.publish_batch(
        [
            message("gradebook.events", "gradebook.term.locked.v1"),
            message("hocba.public", "vn.hocba.gradebook.term.locked.v1"),
        ]
    )
    publisher.close()
    wait_for(
        lambda: queue_depth(ADMIN_URI, TERM_LOCKED) == before + 1, what="the event in transcript's queue"
    )


def test_consuming_another_services_queue_is_refused(users):
    with Connection(users["gradebook"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.basic_get(TERM_LOCKED)
    assert refused(error, "Basic.get", f"queue '{TERM_LOCKED}'"), str(error.value)
    # Its rightful consumer may.
    with Connection(users["transcript"]) as conn:
        conn.default_channel.basic_get(TERM_LOCKED)


def test_a_service_binds_only_the_events_it_subscribes_to(users):
    with Connection(users["transcript"]) as conn:  # its own subscription: allowed
        conn.default_channel.queue_bind(
            TERM_LOCKED, "gradebook.events", routing_key="gradebook.term.locked.v1"
        )
    with Connection(users["transcript"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.queue_bind(TERM_LOCKED, "gradebook.events", routing_key="audit.recorded.v1")
    assert "audit.recorded.v1" in str(error.value), str(error.value)


def test_a_service_cannot_declare_or_delete_what_is_not_its_own(users):
    with Connection(users["gradebook"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.queue_delete(TERM_LOCKED)
    assert refused(error, "Queue.delete", f"queue '{TERM_LOCKED}'"), str(error.value)
    with Connection(users["gradebook"]) as conn, pytest.raises(AccessRefused):
        conn.default_channel.queue_declare("gradebook-spy", durable=True)


def test_the_vendor_reads_only_its_own_queue_bound_to_the_public_exchange(users):
    from docs.vendor_consumer import subscribe

    publisher = ConfirmingPublisher(users["transcript"], confirm_timeout=5)
    received: list[dict] = []
    # Declares and binds its own queue (first run), then receives what a relay published to hocba.public.
    with Connection(users[f"vendor-{VENDOR}"]) as conn:
        own = Queue(
            f"vendor-{VENDOR}-events",
            Exchange("hocba.public", type="topic", passive=True),
            routing_key="vn.hocba.#",
            durable=True,
        )
        own(conn.default_channel).declare()
    publisher.publish_batch([message("hocba.public", "vn.hocba.transcript.sealed.v1", b'{"a":1}')])
    publisher.close()
    assert (
        subscribe(users[f"vendor-{VENDOR}"], VENDOR, lambda attrs, data: received.append(data), limit=1) == 1
    )
    for attempt in (
        lambda ch: ch.basic_get(TERM_LOCKED),
        lambda ch: ch.queue_bind(f"vendor-{VENDOR}-events", "gradebook.events", routing_key="#"),
        lambda ch: ch.queue_declare("vendor-other-events", durable=True),
        lambda ch: (
            ch.confirm_select(),
            ch.basic_publish(amqp.Message(b"{}"), exchange="hocba.public", routing_key="vn.hocba.x.v1"),
        ),
    ):
        with Connection(users[f"vendor-{VENDOR}"]) as conn, pytest.raises(AccessRefused):
            channel = conn.channel()
            attempt(channel)
            conn.drain_events(timeout=2)


def test_a_nameko_service_runs_on_nothing_but_its_grant(users):
    """Its queue and dead-letter declarations, consuming and dead-lettering all fit inside the table's row."""
    probe_calls.clear()
    publisher = ConfirmingPublisher(users["gradebook"], confirm_timeout=5)
    dlq = PROBE[0].dead_letter_queue
    with running(ProbeService, users["probe"]):
        publisher.publish_batch(
            [
                message("gradebook.events", AuditRecordedV1.routing_key(), audit_envelope("ok-1")),
                message("gradebook.events", AuditRecordedV1.routing_key(), audit_envelope("fail-1")),
            ]
        )
        wait_for(lambda: {"ok-1", "fail-1"} <= set(probe_calls), what="both events handled")
        dead = get_one(ADMIN_URI, dlq)
    publisher.close()
    assert dead.headers["x-hocba-exception"] == "builtins.ValueError"


def test_no_service_publishes_through_the_default_exchange_straight_into_a_queue(users):
    """Reliable handlers take a message from the default exchange as a DLQ replay into their own queue (an
    operator's act): a service's user cannot use that path to slip its events into another source's queue."""
    audit_queue = next(
        s.queue for s in SUBSCRIPTIONS if s.service == "audit" and s.source_service == "gradebook"
    )
    for service in ("gradebook", "signing", "audit"):
        with Connection(users[service]) as conn, pytest.raises(AccessRefused) as error:
            channel = conn.channel()
            channel.confirm_select()
            channel.basic_publish(
                amqp.Message(audit_envelope("via-default")), exchange="", routing_key=audit_queue
            )
            conn.drain_events(timeout=5)
        assert refused(error, "Basic.publish", "exchange 'amq.default'"), str(error.value)
