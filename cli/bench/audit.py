"""`hocba bench audit`: audit entries appended per second (inbox + chain lock + seal) against bare INSERTs, both 10
at a time on the same pool."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

from rich.console import Console
from rich.table import Table


def run(events: int, schools: int, console: Console) -> dict[str, Any]:
    from services.runtime import green

    green.patch()
    import eventlet
    from sqlalchemy import Column, MetaData, String, insert
    from sqlalchemy import Table as SqlTable
    from sqlalchemy.dialects.postgresql import JSONB
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

    scratch = SqlTable(
        "bench_bare_audit", MetaData(), Column("id", String, primary_key=True), Column("record", JSONB)
    )
    scratch.create(engine)
    rows = [{"id": str(e.id), "record": e.data.model_dump(mode="json")} for e in envelopes]

    def insert_one(row: dict[str, Any]) -> None:
        with engine.begin() as conn:
            conn.execute(insert(scratch), row)

    # The same concurrency as ours (10 green threads on the same pool of 10 connections), one transaction per row.
    with console.status(f"bare INSERT: {events} rows, one transaction each, 10 at a time"):
        started = time.monotonic()
        list(eventlet.GreenPool(10).imap(insert_one, rows))
        bare = time.monotonic() - started
    engine.dispose()
    result = {
        "events": events,
        "schools": schools,
        "audit_appends_per_s": round(events / ours, 1),
        "bare_inserts_per_s": round(events / bare, 1),
        "ratio": round(bare / ours, 2),
    }
    table = Table(title=f"audit, {events} events over {schools} schools, same run")
    table.add_column("pipeline")
    table.add_column("events/s")
    table.add_row(
        "record(): inbox claim + chain head lock + sealed insert, 10 concurrent", f"{events / ours:.0f}"
    )
    table.add_row("bare INSERT, one transaction each, 10 concurrent (baseline)", f"{events / bare:.0f}")
    Console().print(table)
    Console().print(f"ratio ours / baseline: {result['ratio']:.2f}")
    return result
