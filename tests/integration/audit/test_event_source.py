"""An audit entry is recorded under the service whose exchange delivered it, never the one its body names."""

from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import select

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.handlers import HEADER_EXCEPTION
from tests.helpers import get_one, purge, queue_depth, running, wait_for

pytestmark = pytest.mark.integration

ROUTING_KEY = AuditRecordedV1.routing_key()


def queue_of(source: str) -> str:
    (queue,) = [s.queue for s in subscriptions_of(AuditService) if s.source_service == source]
    return queue


def envelope(school: str, claimed: str, entity: str) -> dict:
    event = AuditRecordedV1(
        service=claimed,
        school_id=school,
        actor_id="u1",
        actor_role="principal",
        action="term.lock",
        entity_type="class_term",
        entity_id=entity,
        occurred_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, source_service=claimed).wire()


def publish(amqp_uri: str, body: dict, exchange: str, routing_key: str = ROUTING_KEY) -> None:
    target = Exchange(exchange, type="topic", durable=True) if exchange else ""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.default_channel).publish(
            body,
            exchange=target,
            routing_key=routing_key,
            declare=[target] if exchange else [],
            message_id=body["id"],
        )


def entries(engine, school: str) -> dict[str, tuple[str, str | None]]:
    """entity id → (service column, the claim kept in the record when it differed)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_entries.c.entity_id, audit_entries.c.service, audit_entries.c.record).where(
                audit_entries.c.school_id == school
            )
        ).all()
    return {row.entity_id: (row.service, row.record.get("claimed_service")) for row in rows}


@pytest.fixture
def engine(service_databases):
    engine = make_engine(service_databases["audit"])
    yield engine
    engine.dispose()


@pytest.fixture
def clean_queues(amqp_uri):
    queues = [
        q
        for source in ("gradebook", "signing", "sync")
        for q in (queue_of(source), f"{queue_of(source)}.dlq")
    ]
    for queue in queues:
        purge(amqp_uri, queue)
    yield
    for queue in queues:
        purge(amqp_uri, queue)


def test_an_entry_claiming_another_service_is_recorded_under_the_exchange_it_came_from(
    amqp_uri, engine, clean_queues, unique
):
    school = f"source-{unique}"
    forged = envelope(school, claimed="signing", entity="forged")  # gradebook writing as signing
    honest = envelope(school, claimed="signing", entity="honest")
    # A dead letter replayed into gradebook's queue comes through the default exchange; its source is the queue's.
    replayed = envelope(school, claimed="sync", entity="replayed")
    with running(AuditService, amqp_uri):
        publish(amqp_uri, forged, "gradebook.events")
        publish(amqp_uri, honest, "signing.events")
        publish(amqp_uri, replayed, "", routing_key=queue_of("gradebook"))
        wait_for(lambda: len(entries(engine, school)) == 3, what="three entries")
    assert entries(engine, school) == {
        "forged": ("gradebook", "signing"),
        "honest": ("signing", None),
        "replayed": ("gradebook", "sync"),
    }


def test_a_message_reaching_a_queue_through_another_services_exchange_is_dead_lettered(
    amqp_uri, engine, clean_queues, unique
):
    """A binding added by hand (the audit user may bind its queues to every source it reads) would carry
    signing's events into gradebook's queue; that queue refuses them instead of recording them as gradebook's."""
    school = f"rebound-{unique}"
    gradebook_queue = queue_of("gradebook")
    body = envelope(school, claimed="gradebook", entity="through-signing")
    with running(AuditService, amqp_uri), Connection(amqp_uri) as conn:
        channel = conn.default_channel
        channel.queue_bind(gradebook_queue, "signing.events", ROUTING_KEY)
        try:
            publish(amqp_uri, body, "signing.events")
            wait_for(lambda: queue_depth(amqp_uri, f"{gradebook_queue}.dlq") == 1, what="the dead letter")
            wait_for(lambda: entries(engine, school), what="signing's own queue recording it")
        finally:
            channel.queue_unbind(gradebook_queue, "signing.events", ROUTING_KEY)
    # Recorded once, under the exchange it really came from; gradebook's queue refused its copy.
    assert entries(engine, school) == {"through-signing": ("signing", "gradebook")}
    dead = get_one(amqp_uri, f"{gradebook_queue}.dlq")
    assert dead.headers[HEADER_EXCEPTION] == "services.runtime.handlers.WrongSource"
