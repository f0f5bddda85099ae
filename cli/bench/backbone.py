"""`hocba bench backbone`: our reliable path against raw kombu with confirms, measured in the same run."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH_SOURCE = "hocbabench"


def run(n: int, console: Console) -> dict[str, Any]:
    from services.runtime import green

    green.patch()
    import eventlet
    from kombu import Exchange, Queue
    from nameko.containers import ServiceContainer
    from sqlalchemy.orm import sessionmaker

    from contracts.audit import AuditRecordedV1
    from services.runtime.db import ensure_database, make_engine, new_metadata, transaction
    from services.runtime.handlers import reliable_handler
    from services.runtime.inbox import Inbox
    from services.runtime.logging import configure_logging
    from services.runtime.outbox import Outbox
    from services.runtime.queues import typed_arguments
    from services.runtime.relay import ConfirmingPublisher, OutboxRelay
    from services.runtime.settings import get_settings
    from services.runtime.tables import runtime_tables
    from services.runtime.uow import SqlUnitOfWork

    settings = get_settings()
    configure_logging("bench", level="WARNING", json=False)
    url = settings.db_url("audit").rsplit("/", 1)[0] + "/hocba_bench"
    ensure_database(url)
    metadata = new_metadata()
    outbox_t, inbox_t = runtime_tables(metadata)
    engine = make_engine(url, pool_size=10)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    factory = sessionmaker(engine)
    inbox = Inbox(inbox_t)
    handled = {"n": 0, "done": eventlet.event.Event()}

    class BenchSink:
        name = "hocbabenchsink"

        def unit_of_work(self, *, correlation_id: str | None = None) -> SqlUnitOfWork:
            return SqlUnitOfWork(factory, Outbox(self.name, outbox_t), inbox, correlation_id=correlation_id)

        @reliable_handler(BENCH_SOURCE, AuditRecordedV1, consumer=name)
        def on_event(self, envelope: Any, uow: SqlUnitOfWork) -> None:
            handled["n"] += 1  # the runtime claims (a redelivery never gets here) and commits after
            if handled["n"] >= n and not handled["done"].ready():
                handled["done"].send()

    def event(i: int) -> AuditRecordedV1:
        return AuditRecordedV1(
            service=BENCH_SOURCE,
            actor_id="bench",
            actor_role="system",
            action="bench",
            entity_type="bench",
            entity_id=str(i),
            occurred_at=datetime.now(UTC),
        )

    # Ours: transactions of 50 events into the outbox → relay (batch confirms) → nameko reliable handler + inbox.
    container = ServiceContainer(BenchSink, {"AMQP_URI": settings.amqp_uri, "max_workers": 10})
    container.start()
    outbox = Outbox(BENCH_SOURCE, outbox_t)
    relay = OutboxRelay(
        BENCH_SOURCE,
        engine,
        outbox_t,
        ConfirmingPublisher(settings.amqp_uri),
        batch_size=settings.relay_batch_size,
    )
    stop = eventlet.event.Event()
    relay_rounds = [0]  # confirm waits of ours: one per relay_once that sent anything

    def relay_loop() -> None:
        while not stop.ready():
            if relay.relay_once():
                relay_rounds[0] += 1
            else:
                eventlet.sleep(0.005)

    with console.status(f"outbox → relay → broker → inbox consumer: {n} events"):
        started = time.monotonic()
        relay_thread = eventlet.spawn(relay_loop)
        for chunk in range(0, n, 50):
            with transaction(factory) as session:
                outbox.add_all(session, [(event(i), None) for i in range(chunk, min(n, chunk + 50))])
        handled["done"].wait()
        ours = time.monotonic() - started
        stop.send()
        relay_thread.wait()
    container.stop()
    relay.publisher.close()

    # Baselines: raw kombu, no database. The honest one confirms in the relay's own batches (one wait for a batch's
    # acks); the other waits for a confirm after every message (kombu's confirm_publish, capped near 1,000/s here).
    exchange = Exchange("hocbabench.raw", type="topic", durable=True)
    # Of the platform's queue type, like every queue our path goes through: the baseline pays for the same thing.
    queue = Queue(
        "hocbabench.raw",
        exchange,
        routing_key="#",
        durable=True,
        queue_arguments=typed_arguments(settings.queue_type),
    )
    bodies = [event(i).model_dump_json().encode() for i in range(n)]
    batch = relay.batch_size  # the relay's own: the baseline waits for confirms exactly as often
    batched, rounds = _raw_kombu(settings.amqp_uri, exchange, queue, bodies, batch, console)
    per_message, _ = _raw_kombu(settings.amqp_uri, exchange, queue, bodies, 1, console)
    metadata.drop_all(engine)
    engine.dispose()

    result = {
        "events": n,
        "batch": batch,
        "raw_kombu_confirm_rounds": rounds,
        "relay_confirm_rounds": relay_rounds[0],
        "outbox_inbox_events_per_s": round(n / ours, 1),
        "raw_kombu_batch_confirms_events_per_s": round(n / batched, 1),
        "raw_kombu_confirm_per_message_events_per_s": round(n / per_message, 1),
        "ratio": round(batched / ours, 2),
        "ratio_against_confirm_per_message": round(per_message / ours, 2),
    }
    table = Table(title=f"backbone, {n} events, same run")
    for column in ("pipeline", "seconds", "events/s"):
        table.add_column(column)
    for label, seconds, key in (
        (
            f"outbox → relay (confirms per batch of {batch}) → nameko reliable handler + inbox",
            ours,
            "outbox_inbox_events_per_s",
        ),
        (
            f"raw kombu, confirms per batch of {batch} → kombu consumer (baseline)",
            batched,
            "raw_kombu_batch_confirms_events_per_s",
        ),
        (
            "raw kombu, a confirm per message → kombu consumer",
            per_message,
            "raw_kombu_confirm_per_message_events_per_s",
        ),
    ):
        table.add_row(label, f"{seconds:.2f}", f"{result[key]:.0f}")
    Console().print(table)
    Console().print(
        f"confirm waits: the relay {relay_rounds[0]} (batches of at most {batch}, as the outbox filled), "
        f"the baseline {rounds} (batches of exactly {batch})"
    )
    Console().print(
        f"ratio ours / baseline (the same confirm batching, no database): {result['ratio']:.2f}; "
        f"against a confirm per message: {result['ratio_against_confirm_per_message']:.2f}"
    )
    return result


def _raw_kombu(
    amqp_uri: str, exchange: Any, queue: Any, bodies: list[bytes], batch: int, console: Console
) -> tuple[float, int]:
    """Seconds for ``bodies`` through the broker with raw kombu: published persistent, ``batch`` at a time with one
    wait for the batch's publisher confirms (as the relay does), consumed and acked one by one (prefetch 10); and
    how many times it waited for confirms."""
    import eventlet
    from kombu import Connection

    received = {"n": 0}
    with Connection(amqp_uri) as consumer_conn, Connection(amqp_uri) as producer_conn:
        # Deleted first: a bench's earlier run may have left it of the other type, and a queue's type cannot change.
        consumer_conn.default_channel.queue_delete(queue.name)
        queue(consumer_conn.default_channel).declare()

        def on_message(body: Any, message: Any) -> None:
            received["n"] += 1
            message.ack()

        def consume() -> None:
            with consumer_conn.Consumer(queue, callbacks=[on_message], prefetch_count=10):
                while received["n"] < len(bodies):
                    with contextlib.suppress(TimeoutError):
                        consumer_conn.drain_events(timeout=1)

        channel = producer_conn.channel()
        channel.confirm_select()
        upto, singles = [0], set()  # the broker acks a run of tags at once (multiple) or one tag

        def on_ack(tag: int, multiple: bool) -> None:
            if multiple:
                upto[0] = max(upto[0], tag)
            else:
                singles.add(tag)

        def confirmed(tags: int) -> bool:
            return upto[0] + sum(1 for t in singles if t > upto[0]) >= tags

        channel.events["basic_ack"].add(on_ack)
        with console.status(f"raw kombu, confirms per {batch}: {len(bodies)} events"):
            started = time.monotonic()
            consumer = eventlet.spawn(consume)
            published = rounds = 0
            for first in range(0, len(bodies), batch):
                for body in bodies[first : first + batch]:
                    channel.basic_publish(
                        channel.prepare_message(
                            body, priority=0, content_type="application/json", properties={"delivery_mode": 2}
                        ),
                        exchange=exchange.name,
                        routing_key="bench",
                    )
                    published += 1
                rounds += 1
                while not confirmed(published):
                    producer_conn.drain_events(timeout=30)
            consumer.wait()
            seconds = time.monotonic() - started
        queue(consumer_conn.default_channel).delete()
    return seconds, rounds
