"""Poison → dead-letter queue → fix → replay → processed once, with the replay itself in the audit log; a replay
goes only to the queue its DLQ belongs to, and only an operator's token replays or purges."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Exchange, Producer, Queue
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from cli.main import app
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope, parse_envelope
from sandbox.issuer import mint_token
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries
from services.runtime.broker import Subscription, subscriptions_of
from services.runtime.db import make_engine
from services.runtime.handlers import HEADER_FAILED_AT, HEADER_QUEUE, dead_letter_exchange_name
from services.runtime.settings import get_settings
from services.transcript.service import TranscriptService
from tests.helpers import purge, queue_depth, running, wait_for

pytestmark = pytest.mark.integration


BUG = "ck_audit_entries_short_role"


def flat(text: str) -> str:
    """CLI output without the line breaks rich adds at the console's width."""
    return " ".join(text.split())


def operator_env(user: str = "ops-on-call", roles: tuple[str, ...] = ("operator",)) -> dict[str, str]:
    """The operator's token where `hocba dlq` reads it (HOCBA_TOKEN), as the identity provider would issue it."""
    return {"HOCBA_TOKEN": mint_token(get_settings(), user_id=user, roles=list(roles))}


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
            # A constraint violation is permanent: one attempt, no retry, and the history says which.
            assert "attempts │ 1" in flat(shown.stdout) and "#1 " in flat(shown.stdout), shown.stdout
            assert "IntegrityError: " in flat(shown.stdout), shown.stdout
            dry = runner.invoke(app, ["dlq", "replay", dlq, "--all", "--dry-run"], env=operator_env())
            assert "would replay 1" in dry.stdout and queue_depth(amqp_uri, dlq) == 1

            with engine.begin() as conn:  # the fix, deployed
                conn.execute(text(f"alter table audit_entries drop constraint {BUG}"))
            replayed = runner.invoke(app, ["dlq", "replay", dlq, "--id", body["id"]], env=operator_env())
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
            again = runner.invoke(app, ["dlq", "replay", dlq, "--id", body["id"]], env=operator_env())
            assert again.exit_code == 1  # nothing left to replay
        assert recorded() == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"alter table audit_entries drop constraint if exists {BUG}"))
        engine.dispose()


def test_replay_refuses_messages_that_keep_failing_unless_forced(amqp_uri, unique):
    from services.runtime.dlq import HEADER_REPLAYS, replay

    subscription = Subscription("refusing", "on_audit", f"emitter-{unique}", AuditRecordedV1)
    queue, target = subscription.dead_letter_queue, subscription.queue
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        channel.queue_declare(queue, durable=False, auto_delete=False)
        channel.queue_declare(target, durable=False, auto_delete=False)
        producer = Producer(channel)
        for n, replays in enumerate((0, 3)):
            producer.publish(
                {"n": n},
                routing_key=queue,
                message_id=f"m{n}",
                headers={HEADER_REPLAYS: replays, HEADER_QUEUE: target},
            )
    result = replay(amqp_uri, queue, topology=[subscription], actor="ops-on-call")
    assert (result.replayed, result.refused) == (["m0"], ["m1"])
    assert queue_depth(amqp_uri, queue) == 1 and queue_depth(amqp_uri, target) == 1
    forced = replay(amqp_uri, queue, topology=[subscription], force=True, actor="ops-on-call")
    assert forced.replayed == ["m1"] and queue_depth(amqp_uri, queue) == 0
    with Connection(amqp_uri) as conn:
        message = conn.default_channel.basic_get(target, no_ack=True)
        assert message.headers[HEADER_REPLAYS] == 1
        conn.default_channel.queue_delete(queue)
        conn.default_channel.queue_delete(target)


def _queue_of(service_cls: type, source: str, event: str) -> str:
    (queue,) = [
        s.queue
        for s in subscriptions_of(service_cls)
        if s.source_service == source and s.event_model.routing_key().startswith(event)
    ]
    return queue


def _plant(
    amqp_uri: str, dlq: str, message_id: str, failed_queue: str | None, failed_at: datetime | None = None
) -> None:
    """What the DLQ's own service's broker user can do: publish to its dead-letter exchange, routed to its DLQ
    (another service's user has no write on that exchange: tests/integration/operations/test_broker_permissions.py)."""
    headers = {HEADER_QUEUE: failed_queue} if failed_queue else {}
    if failed_at is not None:
        headers[HEADER_FAILED_AT] = failed_at.isoformat()
    owner = dlq.rsplit("--", 1)[1].split(".", 1)[0]  # evt-<source>-<key>--<service>.<method>.dlq
    exchange = Exchange(
        dead_letter_exchange_name(get_settings().dead_letter_exchange, owner), type="direct", durable=True
    )
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.default_channel).publish(
            {"id": message_id},
            exchange=exchange,
            routing_key=dlq,
            headers=headers,
            message_id=message_id,
            delivery_mode=2,
        )


def test_a_message_planted_with_another_queues_name_is_not_delivered_there(amqp_uri, unique):
    """The reproduction of issue 28: a message in audit's gradebook DLQ whose header names transcript's
    `term.locked` queue. A routine `replay --all` leaves it where it is, says so and exits 1; the genuine dead
    letter beside it goes back to the DLQ's own queue; transcript's queue stays empty."""
    runner = CliRunner()
    assert runner.invoke(app, ["broker", "setup"]).exit_code == 0
    home = _queue_of(AuditService, "gradebook", "audit.recorded")
    victim = _queue_of(TranscriptService, "gradebook", "gradebook.term.locked")
    dlq = f"{home}.dlq"
    for queue in (home, dlq, victim, f"{victim}.dlq"):
        purge(amqp_uri, queue)
    _plant(amqp_uri, dlq, f"planted-{unique}", failed_queue=victim)
    _plant(amqp_uri, dlq, f"genuine-{unique}", failed_queue=home)
    wait_for(lambda: queue_depth(amqp_uri, dlq) == 2, what="both messages in the DLQ")

    dry = runner.invoke(app, ["dlq", "replay", dlq, "--all", "--dry-run"], env=operator_env())
    assert dry.exit_code == 1 and "would replay 1 to" in dry.stdout, dry.output
    replayed = runner.invoke(app, ["dlq", "replay", dlq, "--all"], env=operator_env())
    assert replayed.exit_code == 1, replayed.output
    assert f"replayed 1 to {home}" in flat(replayed.stdout), replayed.stdout
    assert f"planted-{unique} says it failed in '{victim}'" in flat(replayed.stderr), replayed.stderr

    assert queue_depth(amqp_uri, victim) == 0
    assert queue_depth(amqp_uri, home) == 1 and queue_depth(amqp_uri, dlq) == 1
    with Connection(amqp_uri) as conn:
        returned = conn.default_channel.basic_get(home, no_ack=True)
        left = conn.default_channel.basic_get(dlq, no_ack=True)
    assert (returned.properties["message_id"], left.properties["message_id"]) == (
        f"genuine-{unique}",
        f"planted-{unique}",
    )


def test_the_header_never_aims_a_replay_even_at_the_runtime_api(amqp_uri, unique):
    """The runtime API too: whatever a header says, nothing reaches another queue; a message that names no
    queue at all goes to its DLQ's own queue."""
    from services.runtime.dlq import replay

    subscriptions = [
        Subscription("planted", "on_audit", f"emitter-{unique}", AuditRecordedV1),
        Subscription("victim", "on_audit", f"emitter-{unique}", AuditRecordedV1),
    ]
    own, other = (s.queue for s in subscriptions)
    dlq = subscriptions[0].dead_letter_queue
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        for queue in (own, other, dlq):
            channel.queue_declare(queue, durable=False, auto_delete=False)
        # Straight into the DLQ: the dead-letter exchange knows nothing of these test queues.
        producer = Producer(channel)
        producer.publish(
            {"id": "m-other"}, routing_key=dlq, message_id="m-other", headers={HEADER_QUEUE: other}
        )
        producer.publish({"id": "m-none"}, routing_key=dlq, message_id="m-none")
    result = replay(amqp_uri, dlq, topology=subscriptions, actor="ops-on-call", force=True)
    assert result.target == own
    assert result.replayed == ["m-none"] and result.misplaced == [("m-other", other)]
    assert (queue_depth(amqp_uri, own), queue_depth(amqp_uri, other), queue_depth(amqp_uri, dlq)) == (1, 0, 1)
    with Connection(amqp_uri) as conn:
        for queue in (own, other, dlq):
            conn.default_channel.queue_delete(queue)


def test_a_queue_that_is_no_subscriptions_dlq_is_refused(amqp_uri):
    from services.runtime.dlq import UnknownDeadLetterQueue, home_queue, purge_older_than, replay

    runner = CliRunner()
    victim = _queue_of(TranscriptService, "gradebook", "gradebook.term.locked")
    topology = [s for cls in (AuditService, TranscriptService) for s in subscriptions_of(cls)]
    assert home_queue(f"{victim}.dlq", topology) == victim
    for name in (victim, f"{victim}.dlq.dlq", "hocba.unrouted", "made-up.dlq"):
        with pytest.raises(UnknownDeadLetterQueue):
            home_queue(name, topology)
        with pytest.raises(UnknownDeadLetterQueue):
            replay(amqp_uri, name, topology=topology, actor="ops-on-call")
        with pytest.raises(UnknownDeadLetterQueue):
            purge_older_than(amqp_uri, name, timedelta(0), topology=topology, actor="ops-on-call")
        for command in (["replay", name, "--all"], ["purge", name, "--older-than", "1m"]):
            refused = runner.invoke(app, ["dlq", *command], env=operator_env())
            assert refused.exit_code == 2, refused.output
            assert "not the dead-letter queue of any subscription queue" in flat(refused.stderr)


def test_replay_and_purge_take_the_operator_from_a_token_and_record_its_subject(amqp_uri, unique):
    runner = CliRunner()
    assert runner.invoke(app, ["broker", "setup"]).exit_code == 0
    home = _queue_of(AuditService, "sync", "audit.recorded")
    dlq = f"{home}.dlq"
    purge(amqp_uri, dlq)
    # Listen to what `hocba dlq` tells the audit service, on ops.events.
    watch = f"ops-watch-{unique}"
    ops = Exchange("ops.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        Queue(watch, exchange=ops, routing_key=AuditRecordedV1.routing_key(), auto_delete=False).declare(
            channel=conn.default_channel
        )
    _plant(amqp_uri, dlq, f"old-{unique}", home, failed_at=datetime.now(UTC) - timedelta(hours=2))
    _plant(amqp_uri, dlq, f"new-{unique}", home, failed_at=datetime.now(UTC))
    wait_for(lambda: queue_depth(amqp_uri, dlq) == 2, what="the dead letters")

    no_token = runner.invoke(app, ["dlq", "purge", dlq, "--older-than", "1h"], env={"HOCBA_TOKEN": ""})
    assert no_token.exit_code == 2 and "need an operator token" in flat(no_token.stderr), no_token.output
    teacher = runner.invoke(
        app, ["dlq", "purge", dlq, "--older-than", "1h"], env=operator_env("co-giao", ("teacher",))
    )
    assert teacher.exit_code == 2 and "token refused (Forbidden)" in flat(teacher.stderr), teacher.output
    forged = runner.invoke(
        app, ["dlq", "replay", dlq, "--all"], env={"HOCBA_TOKEN": operator_env()["HOCBA_TOKEN"][:-4] + "AAAA"}
    )
    assert forged.exit_code == 2 and "token refused (Unauthorized)" in flat(forged.stderr), forged.output
    # `--actor` is gone: who acts is who the token says.
    free_text = runner.invoke(app, ["dlq", "replay", dlq, "--all", "--actor", "someone"], env=operator_env())
    assert free_text.exit_code == 2, free_text.output
    assert queue_depth(amqp_uri, dlq) == 2 and queue_depth(amqp_uri, watch) == 0  # nothing done, nothing said

    me = operator_env(f"ops-{unique}")
    purged = runner.invoke(app, ["dlq", "purge", dlq, "--older-than", "1h"], env=me)
    assert purged.exit_code == 0 and "deleted 1" in purged.stdout, purged.output
    replayed = runner.invoke(app, ["dlq", "replay", dlq, "--all"], env=me)
    assert replayed.exit_code == 0 and f"replayed 1 to {home}" in flat(replayed.stdout), replayed.output
    assert queue_depth(amqp_uri, dlq) == 0
    wait_for(lambda: queue_depth(amqp_uri, watch) == 2, what="the purge's and the replay's audit events")
    events = []
    with Connection(amqp_uri) as conn:
        while (message := conn.default_channel.basic_get(watch, no_ack=True)) is not None:
            events.append(parse_envelope(AuditRecordedV1, json.loads(message.body)).data)
        conn.default_channel.queue_delete(watch)
    assert [(e.action, e.actor_id, e.actor_role) for e in events] == [
        ("dlq.purge", f"ops-{unique}", "operator"),
        ("dlq.replay", f"ops-{unique}", "operator"),
    ]
    assert events[1].changes["to"] == home and events[1].entity_id == f"{dlq}/new-{unique}"
    purge(amqp_uri, home)
