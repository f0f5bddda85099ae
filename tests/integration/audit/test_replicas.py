"""Three audit consumers under a burst of 10,000 events: every school's chain stays gap-free and in one order."""

import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from tests.helpers import purge, running, wait_for_count

# A hang guard only: the burst is awaited while it progresses (wait_for_count), however slow the machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

EVENTS = 10_000
SCHOOLS = 5


def test_three_replicas_keep_each_chain_gap_free_in_one_order(amqp_uri, service_databases):
    (queue,) = [s.queue for s in subscriptions_of(AuditService) if s.source_service == "gradebook"]
    purge(amqp_uri, queue)
    run = uuid.uuid4().hex[:6]
    schools = [f"burst-{run}-{n}" for n in range(SCHOOLS)]
    exchange = Exchange("gradebook.events", type="topic", durable=True)
    with running(AuditService, amqp_uri), running(AuditService, amqp_uri), running(AuditService, amqp_uri):
        with Connection(amqp_uri) as conn:
            producer = Producer(conn.default_channel)
            for n in range(EVENTS):
                event = AuditRecordedV1(
                    service="gradebook",
                    school_id=schools[n % SCHOOLS],
                    actor_id="gv",
                    actor_role="teacher",
                    action="marks.record",
                    entity_type="marks",
                    entity_id=f"e-{n}",
                    occurred_at=datetime.now(UTC),
                )
                producer.publish(
                    Envelope.wrap(event, source_service="gradebook").wire(),
                    exchange=exchange,
                    routing_key=event.routing_key(),
                    declare=[exchange] if n == 0 else [],
                )
        engine = make_engine(service_databases["audit"])

        def recorded() -> int:
            with engine.connect() as db:
                return db.execute(
                    select(func.count())
                    .select_from(audit_entries)
                    .where(audit_entries.c.school_id.in_(schools))
                ).scalar()

        assert wait_for_count(recorded, EVENTS, what="audit entries of the burst") == EVENTS
    with engine.connect() as db:
        for school in schools:
            seqs = (
                db.execute(
                    select(audit_entries.c.chain_seq)
                    .where(audit_entries.c.chain == school)
                    .order_by(audit_entries.c.chain_seq)
                )
                .scalars()
                .all()
            )
            assert seqs == list(range(1, EVENTS // SCHOOLS + 1))
    engine.dispose()
    for school in schools:
        result = CliRunner().invoke(app, ["audit", "verify", "--school", school])
        assert result.exit_code == 0, result.stdout
