"""Poison → dead-letter queue → fix → replay → processed once, with the replay itself in the audit log."""

from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from cli.main import app
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from tests.helpers import purge, queue_depth, running, wait_for

pytestmark = pytest.mark.integration


BUG = "ck_audit_entries_short_role"


def test_poison_is_dead_lettered_then_replayed_after_the_fix_and_recorded_once(
    amqp_uri, service_databases, unique
):
    engine = make_engine(service_databases["audit"])
    (queue,) = [s.queue for s in subscriptions_of(AuditService) if s.source_service == "gradebook"]
    dlq = f"{queue}.dlq"
    runner = CliRunner()
    assert runner.invoke(app, ["broker", "setup"]).exit_code == 0
    purge(amqp_uri, queue)
    purge(amqp_uri, dlq)
    # The "bug": a rule too strict for a role name that is valid on the wire (NOT VALID: earlier rows stay).
    with engine.begin() as conn:
        conn.execute(
            text(
                f"alter table audit_entries add constraint {BUG} check (char_length(actor_role) <= 8) not valid"
            )
        )
    event = AuditRecordedV1(
        service="gradebook",
        school_id=f"dlq-{unique}",
        actor_id="u1",
        actor_role="principal-deputy",
        action="term.lock",
        entity_type="class_term",
        entity_id="c1/hk1",
        occurred_at=datetime.now(UTC),
    )
    body = Envelope.wrap(event, source_service="gradebook").wire()

    def recorded() -> int:
        with engine.connect() as conn:
            return conn.execute(
                select(func.count())
                .select_from(audit_entries)
                .where(audit_entries.c.school_id == f"dlq-{unique}")
            ).scalar()

    try:
        with running(AuditService, amqp_uri):
            exchange = Exchange("gradebook.events", type="topic", durable=True)
            with Connection(amqp_uri) as conn:
                Producer(conn.default_channel).publish(
                    body,
                    exchange=exchange,
                    routing_key=event.routing_key(),
                    declare=[exchange],
                    message_id=body["id"],
                )
            wait_for(lambda: queue_depth(amqp_uri, dlq) == 1, what="the poison message in the DLQ")
            assert recorded() == 0

            listing = runner.invoke(app, ["dlq", "list"])
            assert listing.exit_code == 0, listing.stdout
            assert "IntegrityError ×1" in listing.stdout.replace("\n", ""), listing.stdout
            shown = runner.invoke(app, ["dlq", "show", dlq])
            assert shown.exit_code == 0 and body["id"] in shown.stdout
            dry = runner.invoke(app, ["dlq", "replay", dlq, "--all", "--dry-run"])
            assert "would replay 1" in dry.stdout and queue_depth(amqp_uri, dlq) == 1

            with engine.begin() as conn:  # the fix, deployed
                conn.execute(text(f"alter table audit_entries drop constraint {BUG}"))
            replayed = runner.invoke(
                app, ["dlq", "replay", dlq, "--id", body["id"], "--actor", "ops-on-call"]
            )
            assert replayed.exit_code == 0 and "replayed 1" in replayed.stdout, replayed.stdout
            wait_for(lambda: recorded() == 1, what="the replayed event recorded")
            assert queue_depth(amqp_uri, dlq) == 0

            def replay_audited() -> int:
                with engine.connect() as conn:
                    return conn.execute(
                        select(func.count())
                        .select_from(audit_entries)
                        .where(
                            audit_entries.c.action == "dlq.replay",
                            audit_entries.c.actor_id == "ops-on-call",
                            audit_entries.c.entity_id.like(f"{dlq}/{body['id']}"),
                        )
                    ).scalar()

            wait_for(replay_audited, what="the replay in the audit log")
            again = runner.invoke(app, ["dlq", "replay", dlq, "--id", body["id"]])
            assert again.exit_code == 1  # nothing left to replay
        assert recorded() == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"alter table audit_entries drop constraint if exists {BUG}"))
        engine.dispose()


def test_replay_refuses_messages_that_keep_failing_unless_forced(amqp_uri, unique):
    from services.runtime.dlq import HEADER_REPLAYS, replay

    queue = f"dlq-refuse-{unique}"
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        channel.queue_declare(queue, durable=False, auto_delete=False)
        channel.queue_declare(f"{queue}-target", durable=False, auto_delete=False)
        producer = Producer(channel)
        for n, replays in enumerate((0, 3)):
            producer.publish(
                {"n": n},
                routing_key=queue,
                message_id=f"m{n}",
                headers={HEADER_REPLAYS: replays, "x-hocba-failed-queue": f"{queue}-target"},
            )
    result = replay(amqp_uri, queue)
    assert (result.replayed, result.refused) == (["m0"], ["m1"])
    assert queue_depth(amqp_uri, queue) == 1 and queue_depth(amqp_uri, f"{queue}-target") == 1
    forced = replay(amqp_uri, queue, force=True)
    assert forced.replayed == ["m1"] and queue_depth(amqp_uri, queue) == 0
    with Connection(amqp_uri) as conn:
        message = conn.default_channel.basic_get(f"{queue}-target", no_ack=True)
        assert message.headers[HEADER_REPLAYS] == 1
        conn.default_channel.queue_delete(queue)
        conn.default_channel.queue_delete(f"{queue}-target")
