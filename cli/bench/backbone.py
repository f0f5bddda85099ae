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
    from kombu import Connection, Exchange, Producer, Queue
    from nameko.containers import ServiceContainer
    from sqlalchemy.orm import sessionmaker

    from contracts.audit import AuditRecordedV1
    from services.runtime.db import ensure_database, make_engine, new_metadata, transaction
    from services.runtime.handlers import reliable_handler
    from services.runtime.inbox import Inbox
    from services.runtime.logging import configure_logging
    from services.runtime.outbox import Outbox
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

    def relay_loop() -> None:
        while not stop.ready():
            if not relay.relay_once():
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

    # Baseline: raw kombu, publisher confirms per message, consumer acks each message, no database.
    exchange = Exchange("hocbabench.raw", type="topic", durable=True)
    queue = Queue("hocbabench.raw", exchange, routing_key="#", durable=True)
    bodies = [{"i": i, "data": event(i).model_dump(mode="json")} for i in range(n)]
    received = {"n": 0}
    with (
        Connection(settings.amqp_uri) as consumer_conn,
        Connection(settings.amqp_uri, transport_options={"confirm_publish": True}) as producer_conn,
    ):
        queue(consumer_conn.default_channel).declare()
        queue(consumer_conn.default_channel).purge()

        def on_message(body: Any, message: Any) -> None:
            received["n"] += 1
            message.ack()

        def consume() -> None:
            with consumer_conn.Consumer(queue, callbacks=[on_message], prefetch_count=10):
                while received["n"] < n:
                    with contextlib.suppress(TimeoutError):
                        consumer_conn.drain_events(timeout=1)

        with console.status(f"raw kombu with confirms: {n} events"):
            started = time.monotonic()
            consumer = eventlet.spawn(consume)
            producer = Producer(producer_conn.default_channel, exchange=exchange)
            for body in bodies:
                producer.publish(body, routing_key="bench", delivery_mode=2, serializer="json")
            consumer.wait()
            raw = time.monotonic() - started
        queue(consumer_conn.default_channel).delete()
    metadata.drop_all(engine)
    engine.dispose()

    result = {
        "events": n,
        "outbox_inbox_events_per_s": round(n / ours, 1),
        "raw_kombu_confirms_events_per_s": round(n / raw, 1),
        "ratio": round((n / ours) / (n / raw), 2),
    }
    table = Table(title=f"backbone, {n} events, same run")
    for column in ("pipeline", "seconds", "events/s"):
        table.add_column(column)
    table.add_row(
        "outbox → relay (batch confirms) → nameko reliable handler + inbox",
        f"{ours:.2f}",
        f"{result['outbox_inbox_events_per_s']:.0f}",
    )
    table.add_row(
        "raw kombu, confirm per message → kombu consumer (baseline)",
        f"{raw:.2f}",
        f"{result['raw_kombu_confirms_events_per_s']:.0f}",
    )
    Console().print(table)
    Console().print(f"ratio ours / baseline: {result['ratio']:.2f}")
    return result
