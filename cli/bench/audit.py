"""`hocba bench audit`: audit entries appended per second (inbox + chain lock + seal) against the same hash chain
appended with plain psycopg, both 10 at a time."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

from rich.console import Console
from rich.table import Table


def run(events: int, schools: int, console: Console, batch: int = 50) -> dict[str, Any]:
    from services.runtime import green

    green.patch()
    import eventlet
    from sqlalchemy.orm import sessionmaker

    from contracts.audit import AuditAction, AuditRecordedV1, value_id
    from contracts.envelope import Envelope
    from services.audit.app import handlers
    from services.audit.app.unit_of_work import AuditUnitOfWork
    from services.runtime.consume import handle_once
    from services.runtime.data_key import DataVault
    from services.runtime.db import ensure_database, make_engine
    from services.runtime.logging import configure_logging
    from services.runtime.migrations import upgrade
    from services.runtime.settings import get_settings

    configure_logging("bench", level="WARNING", json=False)
    url = get_settings().db_url("audit").rsplit("/", 1)[0] + "/hocba_bench_audit"
    ensure_database(url)
    engine = make_engine(url, pool_size=10)
    with engine.begin() as conn:
        conn.exec_driver_sql("drop schema public cascade; create schema public")
    upgrade("audit", url)
    run_id = uuid.uuid4().hex[:6]
    envelopes = [
        Envelope.wrap(
            AuditRecordedV1.of(
                AuditAction.MARKS_RECORD,
                service="gradebook",
                school_id=f"bench-{run_id}-{n % schools}",
                actor="gv",
                role="teacher",
                entity=value_id(class_id="c", student_id=f"s{n}", subject="toan", term="hk1"),
                changes={"final": "7 → 8"},
            ),
            source_service="gradebook",
        )
        for n in range(events)
    ]
    factory = sessionmaker(engine)

    def append(envelope: Any) -> None:
        handle_once(
            envelope,
            handlers.CONSUMER,
            partial(AuditUnitOfWork, factory),
            partial(handlers.record, source="gradebook", vault=DataVault.from_settings()),
        )

    with console.status(f"appending {events} audit events, {schools} schools, 10 at a time"):
        started = time.monotonic()
        list(eventlet.GreenPool(10).imap(append, envelopes))
        ours = time.monotonic() - started

    # Baselines: the same chain with plain psycopg (cli/bench/audit_baseline.py), 10 transactions at a time like
    # ours: one event per transaction (ours' unit: each message is acked after its own commit), then ``batch`` events
    # of a chain per transaction (the freedom a plain appender has; ours has not taken it yet).
    from cli.bench.audit_baseline import BASELINE_TABLES, append_all, entry_of

    vault = DataVault.from_settings()
    timings = {}
    for size in (1, batch):
        with engine.begin() as conn:
            conn.exec_driver_sql(BASELINE_TABLES)
        with console.status(
            f"plain psycopg hash chain: {events} events, {size} per transaction, 10 at a time"
        ):
            started = time.monotonic()
            append_all(url, [entry_of(e, vault) for e in envelopes], batch=size, concurrency=10)
            timings[size] = time.monotonic() - started
    engine.dispose()
    result = {
        "events": events,
        "schools": schools,
        "concurrency": 10,
        "batch": batch,
        "audit_appends_per_s": round(events / ours, 1),
        "baseline_per_event_appends_per_s": round(events / timings[1], 1),
        "baseline_batched_appends_per_s": round(events / timings[batch], 1),
        "ratio": round(timings[batch] / ours, 2),
        "ratio_against_per_event": round(timings[1] / ours, 2),
    }
    table = Table(title=f"audit, {events} events over {schools} schools (chains), 10 at a time, same run")
    table.add_column("pipeline")
    table.add_column("events/s")
    table.add_row(
        "record(): inbox claim + chain head lock + sealed insert, a transaction per event",
        f"{events / ours:.0f}",
    )
    table.add_row(
        "plain psycopg hash chain (head lock, entry_hash, unique event id), a transaction per event",
        f"{result['baseline_per_event_appends_per_s']:.0f}",
    )
    table.add_row(
        f"plain psycopg hash chain, {batch} events of a chain per transaction (baseline)",
        f"{result['baseline_batched_appends_per_s']:.0f}",
    )
    Console().print(table)
    Console().print(
        f"ratio ours / baseline (batches of {batch}): {result['ratio']:.2f}; "
        f"against a transaction per event: {result['ratio_against_per_event']:.2f}"
    )
    return result
