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
from services.runtime.broker import apply_policies, declare_topology, policies_for, subscriptions_of
from services.runtime.broker_access import (
    NOTHING,
    BrokerGrant,
    any_of,
    apply_grants,
    delete_users,
    permission_table,
    service_grant,
)
from services.runtime.handlers import ReliableEventHandler
from services.runtime.queues import QUORUM, typed_arguments
from services.runtime.relay import ConfirmingPublisher, MessageRefused, OutgoingMessage
from services.runtime.settings import Settings
from tests.conftest import RUN
from tests.helpers import get_one, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
VHOST = f"{RUN}_perms"
ADMIN_URI = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
SETTINGS = Settings(amqp_uri=ADMIN_URI, rabbit_management_url=MANAGEMENT)
SUBSCRIPTIONS = [s for e in SERVICES.values() for s in subscriptions_of(e.load())]
TERM_LOCKED = "evt-gradebook-gradebook.term.locked.v1--transcript.on_term_locked"
AUDIT_OF_GRADEBOOK = "evt-gradebook-audit.recorded.v1--audit.on_gradebook_audit"
VENDOR = "acme"

probe_calls: list[str] = []


class ProbeService:
    """A consumer of gradebook's audit events that fails on request (a bug, or a timeout the first time): runs under
    nothing but its own grant."""

    name = "probe"

    @ReliableEventHandler.decorator("gradebook", AuditRecordedV1)
    def on_audit(self, envelope):
        probe_calls.append(envelope.data.entity_id)
        if envelope.data.entity_id.startswith("fail"):
            raise ValueError("simulated bug")
        if envelope.data.entity_id.startswith("flaky") and probe_calls.count(envelope.data.entity_id) == 1:
            raise TimeoutError("simulated blip")


PROBE = subscriptions_of(ProbeService)


@pytest.fixture(scope="module")
def users():
    """The table's users (every service, relay and one vendor) and the probe's, with exactly their rows, on a
    private vhost; named for this run (users are cluster-wide) and deleted at the module's end."""
    from services.runtime.broker import recreate_vhost

    recreate_vhost(MANAGEMENT, VHOST)
    declare_topology(ADMIN_URI, [*SUBSCRIPTIONS, *PROBE], SERVICES, SETTINGS)
    apply_policies(policies_for([*SUBSCRIPTIONS, *PROBE], SETTINGS), SETTINGS, VHOST)
    table = permission_table(SUBSCRIPTIONS, SERVICES, SETTINGS, [VENDOR])
    table["probe"] = service_grant("probe", PROBE, SETTINGS)
    # Consumes one queue and nothing else: no write anywhere, so no dead-letter exchange either.
    table["reader"] = BrokerGrant("reader", configure=NOTHING, write=NOTHING, read=any_of([TERM_LOCKED]))
    accounts = {name: (f"{RUN}_{name}", secrets.token_urlsafe(16)) for name in table}
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


def publish_refused(uri: str, exchange: str, routing_key: str) -> AccessRefused:
    """Publish once with confirms as ``uri``'s user; the broker's refusal closes the channel."""
    with Connection(uri) as conn, pytest.raises(AccessRefused) as error:
        channel = conn.channel()
        channel.confirm_select()
        channel.basic_publish(amqp.Message(b"{}"), exchange=exchange, routing_key=routing_key)
        conn.drain_events(timeout=5)
    return error.value


def test_gradebooks_users_cannot_publish_to_signings_exchange(users):
    """Issue 28's must-show: neither gradebook's service user nor its relay's may publish on signing.events."""
    for principal in ("gradebook", "gradebook-relay"):
        error = publish_refused(users[principal], "signing.events", "transcript.sealed.v1")
        assert error.code == 403, str(error)
        assert str(error).startswith("Basic.publish") and "access to exchange 'signing.events'" in str(error)
    # The relay's own path (declare, then publish with confirms) is refused just the same: the broker's refusal,
    # which the relay counts against the row (MessageRefused) rather than retrying the batch as a lost connection.
    publisher = ConfirmingPublisher(users["gradebook-relay"], confirm_timeout=5, declare_exchanges=False)
    with pytest.raises(MessageRefused) as refused:
        publisher.publish_batch([message("signing.events", "transcript.sealed.v1")])
    assert isinstance(refused.value.__cause__, AccessRefused), repr(refused.value.__cause__)
    publisher.close()


def test_a_service_user_publishes_nothing_but_its_own_dead_letters(users):
    """Events go out through the relay: the service's own user may not publish them, even on its own exchange."""
    error = publish_refused(users["transcript"], "transcript.events", "transcript.assembled.v1")
    assert "access to exchange 'transcript.events'" in str(error), str(error)
    error = publish_refused(users["transcript"], "hocba.public", "vn.hocba.transcript.assembled.v1")
    assert "access to exchange 'hocba.public'" in str(error), str(error)


def test_the_relay_publishes_only_the_events_its_service_emits(users):
    """Topic permissions: on its own exchange and on hocba.public, exactly its events' routing keys."""
    for exchange, key in (
        ("gradebook.events", "transcript.sealed.v1"),
        ("hocba.public", "vn.hocba.transcript.sealed.v1"),
        ("gradebook.events", "gradebook.term.locked.v2"),
    ):
        error = publish_refused(users["gradebook-relay"], exchange, key)
        assert error.code == 403 and f"access to topic '{key}' in exchange '{exchange}'" in str(error), str(
            error
        )


def test_no_service_can_publish_into_another_services_dead_letter_queue(users):
    """Each service dead-letters into its own exchange (hocba.dlx.<service>): transcript's user may not publish
    into audit's, nor into the old shared hocba.dlx through which any service reached every DLQ."""
    audit_dlq = f"{AUDIT_OF_GRADEBOOK}.dlq"
    for exchange in ("hocba.dlx.audit", "hocba.dlx"):
        error = publish_refused(users["transcript"], exchange, audit_dlq)
        assert str(error).startswith("Basic.publish") and f"access to exchange '{exchange}'" in str(error), (
            str(error)
        )
    assert queue_depth(ADMIN_URI, audit_dlq) == 0


def test_the_broker_dead_letters_by_policy_without_any_write_permission_of_the_consumer(users):
    """Rejecting a message needs no permission on the dead-letter exchange: the broker itself routes it there by
    the queue's policy (the handler's fall-back when its own republish fails)."""
    publisher = ConfirmingPublisher(users["gradebook-relay"], confirm_timeout=5, declare_exchanges=False)
    publisher.publish_batch([message("gradebook.events", "gradebook.term.locked.v1", b'{"reject": 1}')])
    publisher.close()
    dlq = f"{TERM_LOCKED}.dlq"
    before = queue_depth(ADMIN_URI, dlq)
    with Connection(users["reader"]) as conn:
        channel = conn.default_channel
        got = wait_for(lambda: channel.basic_get(TERM_LOCKED, no_ack=False), what="the event")
        channel.basic_reject(got.delivery_tag, requeue=False)
    wait_for(lambda: queue_depth(ADMIN_URI, dlq) == before + 1, what="the broker's own dead-lettering")


def test_the_relay_publishes_to_its_own_exchange_and_the_public_one(users):
    publisher = ConfirmingPublisher(users["gradebook-relay"], confirm_timeout=5, declare_exchanges=False)
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
    """Issue 28's must-show: gradebook's user may not read audit's queue (nor transcript's)."""
    for queue in (AUDIT_OF_GRADEBOOK, TERM_LOCKED):
        for principal in ("gradebook", "gradebook-relay"):
            with Connection(users[principal]) as conn, pytest.raises(AccessRefused) as error:
                conn.default_channel.basic_get(queue)
            assert refused(error, "Basic.get", f"queue '{queue}'"), str(error.value)
    with Connection(users["gradebook"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.basic_consume(AUDIT_OF_GRADEBOOK, callback=lambda m: None)
    assert refused(error, "Basic.consume", f"queue '{AUDIT_OF_GRADEBOOK}'"), str(error.value)
    # Their rightful consumers may.
    with Connection(users["transcript"]) as conn:
        conn.default_channel.basic_get(TERM_LOCKED)
    with Connection(users["audit"]) as conn:
        conn.default_channel.basic_get(AUDIT_OF_GRADEBOOK)


def test_a_service_binds_only_the_events_it_subscribes_to(users):
    with Connection(users["transcript"]) as conn:  # its own subscription: allowed
        conn.default_channel.queue_bind(
            TERM_LOCKED, "gradebook.events", routing_key="gradebook.term.locked.v1"
        )
    with Connection(users["transcript"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.queue_bind(TERM_LOCKED, "gradebook.events", routing_key="audit.recorded.v1")
    assert "audit.recorded.v1" in str(error.value), str(error.value)


def test_no_service_or_relay_can_delete_a_shared_exchange(users):
    """Declaring an exchange takes configure, and so does deleting it: nobody but the administrator has it on the
    services' exchanges, hocba.public or another service's dead-letter exchange."""
    for principal, exchange in (
        ("transcript", "gradebook.events"),
        ("gradebook-relay", "hocba.public"),
        ("gradebook-relay", "gradebook.events"),
        ("transcript", "hocba.dlx.audit"),
        (f"vendor-{VENDOR}", "hocba.public"),
    ):
        with Connection(users[principal]) as conn, pytest.raises(AccessRefused) as error:
            conn.default_channel.exchange_delete(exchange)
        assert refused(error, "Exchange.delete", f"exchange '{exchange}'"), str(error.value)


def test_a_service_cannot_declare_or_delete_what_is_not_its_own(users):
    with Connection(users["signing"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.queue_delete(TERM_LOCKED)
    assert refused(error, "Queue.delete", f"queue '{TERM_LOCKED}'"), str(error.value)
    with Connection(users["signing"]) as conn, pytest.raises(AccessRefused):
        conn.default_channel.queue_declare("gradebook-spy", durable=True)


def test_the_vendor_reads_only_its_own_queue_bound_to_the_public_exchange(users):
    from docs.vendor_consumer import subscribe

    publisher = ConfirmingPublisher(users["signing-relay"], confirm_timeout=5, declare_exchanges=False)
    received: list[dict] = []
    # Declares and binds its own queue (first run), then receives what a relay published to hocba.public.
    with Connection(users[f"vendor-{VENDOR}"]) as conn:
        own = Queue(
            f"vendor-{VENDOR}-events",
            Exchange("hocba.public", type="topic", passive=True),
            routing_key="vn.hocba.#",
            durable=True,
            queue_arguments=typed_arguments(QUORUM),  # as docs/vendor_consumer.py declares it
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
    """Its queue, retry and dead-letter declarations, consuming, retrying through its own dead-letter exchange and
    dead-lettering all fit inside the table's row."""
    probe_calls.clear()
    publisher = ConfirmingPublisher(users["gradebook-relay"], confirm_timeout=5, declare_exchanges=False)
    dlq = PROBE[0].dead_letter_queue
    fast = {"retry_base_seconds": 0.05, "retry_cap_seconds": 0.2}
    with running(ProbeService, users["probe"], DECLARE_EVENT_EXCHANGES=False, SETTINGS=fast):
        publisher.publish_batch(
            [
                message("gradebook.events", AuditRecordedV1.routing_key(), audit_envelope(entity))
                for entity in ("ok-1", "fail-1", "flaky-1")
            ]
        )
        wait_for(lambda: probe_calls.count("flaky-1") == 2, what="the flaky event retried")
        wait_for(lambda: {"ok-1", "fail-1"} <= set(probe_calls), what="both other events handled")
        dead = get_one(ADMIN_URI, dlq)
    publisher.close()
    assert dead.headers["x-hocba-exception"] == "builtins.ValueError"
    assert queue_depth(ADMIN_URI, dlq) == 0  # the flaky one passed on its second attempt
    assert queue_depth(ADMIN_URI, PROBE[0].retry_queue) == 0


def test_a_service_cannot_create_a_retry_queue_only_redeclare_its_own(users):
    """A retry queue dead-letters through the default exchange: to create one RabbitMQ wants read on the queue and
    write on `amq.default` (which would let a service publish into any queue); a service has neither. So `broker
    setup` creates them; a service may redeclare and bind its own (the handler does at start-up), nobody else's."""
    own = PROBE[0].retry_queue
    # Of the type `broker setup` gave it (the settings' queue type), or the broker refuses the redeclaration.
    arguments = typed_arguments(
        SETTINGS.queue_type, {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": PROBE[0].queue}
    )
    with Connection(users["probe"]) as conn:  # exists (broker setup): redeclared and bound
        conn.default_channel.queue_declare(own, durable=True, auto_delete=False, arguments=arguments)
        conn.default_channel.queue_bind(own, "hocba.dlx.probe", routing_key=own)
    with Connection(ADMIN_URI) as conn:
        conn.default_channel.queue_delete(own)
    try:
        with Connection(users["probe"]) as conn, pytest.raises(AccessRefused) as error:
            conn.default_channel.queue_declare(own, durable=True, auto_delete=False, arguments=arguments)
        assert refused(error, "Queue.declare", f"queue '{own}'"), str(error.value)
    finally:
        declare_topology(ADMIN_URI, PROBE, SERVICES, SETTINGS)
    audit_retry = f"{AUDIT_OF_GRADEBOOK}.retry"
    with Connection(users["transcript"]) as conn, pytest.raises(AccessRefused) as error:
        conn.default_channel.queue_declare(
            audit_retry,
            durable=True,
            auto_delete=False,
            arguments=typed_arguments(
                SETTINGS.queue_type,
                {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": AUDIT_OF_GRADEBOOK},
            ),
        )
    assert refused(error, "Queue.declare", f"queue '{audit_retry}'"), str(error.value)
    for exchange in (
        "hocba.dlx.audit",
        "",
    ):  # nor reach another's retry queue to send into its consumer queue
        error_ = publish_refused(users["transcript"], exchange, audit_retry)
        assert error_.code == 403, str(error_)


def test_no_service_publishes_through_the_default_exchange_straight_into_a_queue(users):
    """Reliable handlers take a message from the default exchange as a DLQ replay into their own queue (an
    operator's act): a service's user cannot use that path to slip its events into another source's queue."""
    audit_queue = next(
        s.queue for s in SUBSCRIPTIONS if s.service == "audit" and s.source_service == "gradebook"
    )
    for service in ("gradebook", "gradebook-relay", "signing", "audit"):
        with Connection(users[service]) as conn, pytest.raises(AccessRefused) as error:
            channel = conn.channel()
            channel.confirm_select()
            channel.basic_publish(
                amqp.Message(audit_envelope("via-default")), exchange="", routing_key=audit_queue
            )
            conn.drain_events(timeout=5)
        assert refused(error, "Basic.publish", "exchange 'amq.default'"), str(error.value)
