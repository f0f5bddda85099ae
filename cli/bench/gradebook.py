"""`hocba bench gradebook`: score writes/s and class-sheet read latency for a 40-class school, against a bare
SQLAlchemy insert loop measured in the same run."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from typing import Any

from rich.console import Console
from rich.table import Table

from sandbox.ports import free_port


def timed_writes(base: str, requests: list[tuple[str, str, Any]], *, concurrency: int) -> float:
    """Seconds to PUT ``requests`` (path, Authorization, JSON body), ``concurrency`` at a time, over one client that
    keeps its connections (at most ``concurrency``), the tokens minted by the caller: a browser's way, and nothing
    but the API's work inside the timing."""
    import eventlet
    import httpx

    from services.runtime import http_client

    with http_client.client(
        base_url=base,
        timeout=60,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    ) as http:

        def put(request: tuple[str, str, Any]) -> None:
            path, authorization, body = request
            http.put(path, headers={"Authorization": authorization}, json=body).raise_for_status()

        started = time.monotonic()
        list(eventlet.GreenPool(concurrency).imap(put, requests))
        return time.monotonic() - started


def run(classes: int, reads: int, console: Console) -> dict[str, Any]:
    from services.runtime import green

    green.patch()
    from nameko.containers import ServiceContainer
    from sqlalchemy import Column, MetaData, String, insert
    from sqlalchemy import Table as SqlTable
    from sqlalchemy.dialects.postgresql import JSONB

    from sandbox.issuer import mint_token
    from sandbox.sample_school import SUBJECTS, build, load_via_api, marks_for
    from services.gradebook.service import GradebookService
    from services.runtime import http_client
    from services.runtime.db import ensure_database, make_engine
    from services.runtime.logging import configure_logging
    from services.runtime.migrations import upgrade
    from services.runtime.settings import get_settings

    settings = get_settings()
    configure_logging("bench", level="WARNING", json=False)
    url = settings.db_url("gradebook").rsplit("/", 1)[0] + "/hocba_bench_gradebook"
    ensure_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("drop schema public cascade; create schema public")
    upgrade("gradebook", url)

    def token(user: str, roles: list[str], school_id: str | None) -> str:
        return mint_token(settings, user_id=user, roles=roles, school_id=school_id)

    school = build(f"bench-{uuid.uuid4().hex[:6]}", classes=classes, students_per_class=45)
    port = free_port()
    container = ServiceContainer(
        GradebookService,
        {**settings.nameko_config("gradebook"), "DB_URL": url, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"},
    )
    container.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with console.status(f"loading a school of {classes} classes × 45 students through the API"):
            load_via_api(base, school, token)
        jobs = [(c["class_id"], code) for c in school.classes for code, _ in SUBJECTS]
        payloads = {(cid, code): marks_for(school, cid, code, "hk1") for cid, code in jobs}
        cells = sum(len(p) for p in payloads.values())

        # Outside the timing: each teacher's token minted beforehand, and connections kept (a browser does both).
        tokens = {
            job: f"Bearer {token(school.teacher_of(job[0], job[1]), ['teacher'], school.school_id)}"
            for job in jobs
        }

        requests = [
            (
                f"/classes/{cid}/subjects/{code}/terms/hk1/marks",
                tokens[(cid, code)],
                {"entries": payloads[(cid, code)]},
            )
            for cid, code in jobs
        ]
        with console.status(f"score writes: {len(jobs)} requests, {cells} scores, 10 teachers at a time"):
            api_seconds = timed_writes(base, requests, concurrency=10)

        principal = {"Authorization": f"Bearer {token('ht', ['principal'], school.school_id)}"}
        latencies = []
        rng = random.Random(1)
        with (
            console.status(f"class-sheet reads: {reads}"),
            http_client.client(base_url=base, headers=principal) as http,
        ):
            for _ in range(reads):
                cid = rng.choice(school.classes)["class_id"]
                started = time.monotonic()
                http.get(f"/classes/{cid}/sheet", params={"term": "hk1"}).raise_for_status()
                latencies.append(time.monotonic() - started)
    finally:
        container.stop()

    # Baseline: the same number of JSONB rows, inserted 45 per transaction with bare SQLAlchemy.
    scratch = SqlTable(
        "bench_bare_marks", MetaData(), Column("k", String, primary_key=True), Column("entry", JSONB)
    )
    scratch.drop(engine, checkfirst=True)
    scratch.create(engine)
    rows = [
        {"k": f"{cid}:{code}:{e['student_id']}", "entry": e} for (cid, code), p in payloads.items() for e in p
    ]
    with console.status(f"bare SQLAlchemy insert loop: {len(rows)} rows"):
        started = time.monotonic()
        for i in range(0, len(rows), 45):
            with engine.begin() as conn:
                conn.execute(insert(scratch), rows[i : i + 45])
        bare_seconds = time.monotonic() - started
    scratch.drop(engine)
    engine.dispose()

    latencies.sort()
    result = {
        "classes": classes,
        "scores": cells,
        "api_score_writes_per_s": round(cells / api_seconds, 1),
        "bare_insert_rows_per_s": round(len(rows) / bare_seconds, 1),
        "ratio": round((cells / api_seconds) / (len(rows) / bare_seconds), 3),
        "sheet_read_p50_ms": round(1000 * statistics.median(latencies), 1),
        "sheet_read_p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
    }
    table = Table(title=f"gradebook, {classes} classes × 45 students × 12 subjects, same run")
    table.add_column("measure")
    table.add_column("value")
    table.add_row(
        "score writes through the API (validate, lock check, audit event each)",
        f"{result['api_score_writes_per_s']:.0f} scores/s",
    )
    table.add_row("bare SQLAlchemy insert loop (baseline)", f"{result['bare_insert_rows_per_s']:.0f} rows/s")
    table.add_row("ratio API / baseline", f"{result['ratio']:.2f}")
    table.add_row(
        f"class-sheet read p50 / p99 ({reads} reads)",
        f"{result['sheet_read_p50_ms']} ms / {result['sheet_read_p99_ms']} ms",
    )
    Console().print(table)
    return result
