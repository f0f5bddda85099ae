"""Idempotent consumers: the same event delivered twice has its side effect once."""

from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries, inbox
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.metrics import EVENTS_HANDLED
from tests.helpers import purge, running, wait_for

pytestmark = pytest.mark.integration


def test_same_event_delivered_twice_is_recorded_once(amqp_uri, service_databases, unique):
    engine = make_engine(service_databases["audit"])
    event = AuditRecordedV1(
        service="gradebook",
        school_id=f"school-{unique}",
        actor_id="u1",
        actor_role="principal",
        action="term.lock",
        entity_type="class_term",
        entity_id="c1/hk1",
        occurred_at=datetime.now(UTC),
    )
    body = Envelope.wrap(event, source_service="gradebook").wire()
    (queue,) = [s.queue for s in subscriptions_of(AuditService) if s.source_service == "gradebook"]
    purge(amqp_uri, queue)
    handled = EVENTS_HANDLED.labels("audit", queue)
    before = handled._value.get()
    exchange = Exchange("gradebook.events", type="topic", durable=True)
    with running(AuditService, amqp_uri), Connection(amqp_uri) as conn:
        producer = Producer(conn.default_channel)
        for _ in range(2):  # a redelivery after a lost ack looks exactly like this
            producer.publish(
                body, exchange=exchange, routing_key=AuditRecordedV1.routing_key(), declare=[exchange]
            )
        wait_for(lambda: handled._value.get() - before >= 2, what="both deliveries handled")
    with engine.connect() as db:
        entries = db.execute(
            select(func.count())
            .select_from(audit_entries)
            .where(audit_entries.c.school_id == f"school-{unique}")
        ).scalar()
        claims = db.execute(
            select(func.count()).select_from(inbox).where(inbox.c.event_id == body["id"])
        ).scalar()
    engine.dispose()
    assert (entries, claims) == (1, 1)
