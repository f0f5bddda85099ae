"""Chaos: a school's year flows through the whole stack (one process per service and relay) while every process is
SIGKILLed once and restarted, RabbitMQ restarts once and the gateway fails for a while. At the end every record is
sealed and accepted exactly once, no dead-letter queue holds anything, and the audit chain verifies.

Small by default (one class of 6 pupils); `HOCBA_CHAOS_STUDENTS=40` for a bigger batch, `HOCBA_CHAOS_SEED` replays a
schedule. The broker restart is `rabbitmqctl stop_app`/`start_app`, which every vhost on the node feels; on a broker
shared with someone else's running stack, `HOCBA_CHAOS_BROKER=connections` only closes this test vhost's connections.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from cli.main import spawn_stack, stop_stack
from cli.pipeline import DemoSchool, Pipeline
from cli.registry import SERVICES, dev_token, gateway_url
from contracts.audit import AuditRecordedV1
from sandbox.sample_school import build
from services.audit.store.tables import audit_entries
from services.runtime.broker import setup_broker, subscriptions_of
from services.runtime.settings import get_settings
from tests.chaos.monkey import Monkey, Stack, schedule
from tests.conftest import _CHECKOUT, TEST_VHOST
from tests.helpers import queue_depth, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 2000 + int(_CHECKOUT, 16) % 500  # beside a developer's `hocba up` and the other tests' stacks
STUDENTS = int(os.environ.get("HOCBA_CHAOS_STUDENTS", "6"))
# Seconds in which the kills fall: about the time the batch takes from the first marks to the last report.
WINDOW = float(os.environ.get("HOCBA_CHAOS_WINDOW", str(60 + 3 * STUDENTS)))
DEADLINE = 240 + 12 * STUDENTS  # the whole flow, kills included; the test always ends by itself
VHOST = f"{TEST_VHOST}_chaos"
DB = f"postgresql+psycopg://postgres@127.0.0.1:5432/hocba_test_{_CHECKOUT}_chaos_{{}}"
REHEARSAL_DAY = "2026-06-20"  # before the 2025-2026 cutoff, as in the demo
ADMIN = "chaos-gateway-admin"

T = TypeVar("T")


@pytest.fixture
def chaos_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A vhost and databases of its own (the broker restart and leftovers of other tests stay apart)."""
    from services.runtime.broker import recreate_vhost
    from services.runtime.db import drop_database, recreate_database
    from services.runtime.migrations import upgrade

    recreate_vhost("http://guest:guest@127.0.0.1:15672", VHOST)
    env = {
        "HOCBA_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
        "HOCBA_PORT_OFFSET": str(OFFSET),
        "HOCBA_REPORTING_DAY": REHEARSAL_DAY,
        "GATEWAY_TODAY": REHEARSAL_DAY,
        "GATEWAY_ADMIN_TOKEN": ADMIN,
        "GATEWAY_LOG_LEVEL": "WARNING",
        # Ten processes beside the other stacks on this machine's PostgreSQL (100 connections in all).
        "HOCBA_DB_POOL_SIZE": "3",
        "HOCBA_DB_URL_GATEWAY": DB.format("gateway"),
        **{f"HOCBA_DB_URL_{name.upper()}": DB.format(name) for name in SERVICES},
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)  # `python -m cli.main` in the children imports this checkout
    _clear_settings()
    for name in SERVICES:
        recreate_database(DB.format(name))
        upgrade(name, DB.format(name))
    drop_database(DB.format("gateway"))  # the gateway creates it on start
    setup_broker(get_settings(), [e.load() for e in SERVICES.values()], SERVICES)
    yield env
    monkeypatch.undo()
    _clear_settings()


def _clear_settings() -> None:
    from sandbox.gateway.settings import get_gateway_settings

    get_settings.cache_clear()
    get_gateway_settings.cache_clear()


# The machine's PostgreSQL is shared with other stacks and benchmarks: when all its connections are taken, a check
# waits for one instead of failing the run (that is this machine's load, not the pipeline's fault).
BUSY = "too many clients"


def _transient(error: BaseException) -> bool:
    """A service being killed or restarting: connection refused or cut, or a 5xx from the one behind it."""
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500
    return isinstance(error, httpx.TransportError) or BUSY in str(error)


def patiently(call: Callable[[], T], what: str, timeout: float = 120) -> T:
    """``call()``, again while the service it needs is down; any other failure is a real one and raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except Exception as error:
            if not _transient(error) or time.monotonic() > deadline:
                raise
            print(f"[driver] {what}: {type(error).__name__} {str(error)[:120]}; again", flush=True)
            time.sleep(1)


def _engine(service: str):  # noqa: ANN202
    return create_engine(DB.format(service), pool_size=1)


def _sealed(school_id: str) -> int:
    engine = _engine("signing")
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("select count(*) from signing_records where school_id = :s and status = 'sealed'"),
                {"s": school_id},
            ).scalar_one()
    finally:
        engine.dispose()


def _unpublished() -> dict[str, int]:
    counts = {}
    for service in SERVICES:
        engine = _engine(service)
        with engine.connect() as conn:
            counts[service] = conn.execute(
                text("select count(*) from outbox where published_at is null")
            ).scalar_one()
        engine.dispose()
    return counts


def _audit_events_sent(school_id: str) -> dict[str, set[str]]:
    """Per service, the ids of the audit events it committed to its outbox for the school."""
    sent = {}
    for service in SERVICES:
        engine = _engine(service)
        with engine.connect() as conn:
            sent[service] = {
                str(row.event_id)
                for row in conn.execute(
                    text(
                        "select event_id from outbox where ce_type = :t and body -> 'data' ->> 'school_id' = :s"
                    ),
                    {"t": AuditRecordedV1.ce_type(), "s": school_id},
                )
            }
        engine.dispose()
    return sent


def _audit_log(school_id: str) -> list[dict[str, Any]]:
    engine = _engine("audit")
    try:
        with engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    select(audit_entries).where(audit_entries.c.school_id == school_id)
                ).mappings()
            ]
    finally:
        engine.dispose()


def _consumer_queues() -> list[tuple[str, str]]:
    return [(s.queue, s.dead_letter_queue) for e in SERVICES.values() for s in subscriptions_of(e.load())]


def _gateway_admin() -> httpx.Client:
    return httpx.Client(base_url=gateway_url(), headers={"Authorization": f"Bearer {ADMIN}"}, timeout=15)


def _assert_each_fact_once(log: list[dict[str, Any]], demo: DemoSchool) -> None:
    """What happened to the school, each once: no step of the pipeline ran twice after a redelivery or a retry."""
    school = demo.school
    facts: Counter[tuple[str, str, str]] = Counter(
        (e["action"], e["entity_id"], str(e["record"].get("changes", {}).get("step", "")))
        for e in log
        if e["action"]
        not in ("marks.record", "homeroom.record")  # a retried PUT may record again: same values
    )
    assert [f for f, n in facts.items() if n > 1] == []
    per_action = Counter(action for action, _, _ in facts)
    entered = {
        (e["action"], e["entity_id"]) for e in log if e["action"] in ("marks.record", "homeroom.record")
    }
    steps = {int(step.split("/")[1].split()[0]) for action, _, step in facts if action == "signature.apply"}
    assert len(steps) == 1, steps  # one plan length in a one-class school
    (plan,) = steps
    assert {
        "marks.record": sum(1 for action, _ in entered if action == "marks.record"),
        "homeroom.record": sum(1 for action, _ in entered if action == "homeroom.record"),
        "term.lock": per_action["term.lock"],
        "year_record.assemble": per_action["year_record.assemble"],
        "signature.apply": per_action["signature.apply"],
        "record.seal": per_action["record.seal"],
        "province.accepted": per_action["province.accepted"],
    } == {
        "marks.record": 2 * STUDENTS * len(school.subjects),
        "homeroom.record": 2 * STUDENTS,
        "term.lock": 2 * len(school.classes),
        "year_record.assemble": STUDENTS,
        "signature.apply": STUDENTS * (plan - 1),  # every person's step; the last step is the seal
        "record.seal": STUDENTS,
        "province.accepted": STUDENTS,
    }


def _drive(pipeline: Pipeline, demo: DemoSchool, deadline: float) -> None:
    """What the school's people do, through every kill: enter the year, lock it, sign until all is sealed."""
    for class_id, term, code in pipeline.marks_requests(demo):
        patiently(lambda c=class_id, t=term, s=code: pipeline.enter(demo, c, t, s), f"marks {term} {code}")
    patiently(lambda: pipeline.lock_year(demo), "lock the year")
    while (sealed := patiently(lambda: pipeline.counts(demo), "counts").sealed) < STUDENTS:
        assert time.monotonic() < deadline, f"only {sealed}/{STUDENTS} sealed before the deadline"
        patiently(lambda: pipeline.sign_waiting(demo), "sign what waits")
        time.sleep(1)


def test_the_pipeline_survives_kills_a_broker_restart_and_a_gateway_outage_exactly_once(chaos_env, tmp_path):
    seed = int(os.environ.get("HOCBA_CHAOS_SEED", str(random.SystemRandom().randrange(1 << 32))))
    print(
        f"\n[chaos] seed {seed} (HOCBA_CHAOS_SEED={seed} replays the schedule), {STUDENTS} students",
        flush=True,
    )
    rng = random.Random(seed)
    log_dir = tmp_path / "logs"
    started = time.monotonic()
    stack = Stack(spawn_stack(list(SERVICES), log_dir=log_dir), log_dir)
    monkey: Monkey | None = None
    try:
        pipeline = Pipeline(dev_token, timeout=30)
        wait_for(pipeline.ready, timeout=180, interval=0.5, what="every service and the gateway to be ready")
        demo = DemoSchool(
            build(f"chaos-{seed:08x}", classes=1, students_per_class=STUDENTS, grade=5),
            "Trường Tiểu học Hỗn Loạn",
        )
        pipeline.provision_seal(demo)
        pipeline.connect_gateway(demo)
        pipeline.load(demo)

        names = [n for n in stack.procs if n.startswith(("run-", "relay-"))]
        events = schedule(rng, names, WINDOW)
        print(
            "[chaos] schedule: " + ", ".join(f"+{e.at}s {e.kind} {e.target}".strip() for e in events),
            flush=True,
        )
        monkey = Monkey(
            stack,
            rng,
            events,
            amqp_uri=chaos_env["HOCBA_AMQP_URI"],
            vhost=VHOST,
            gateway_admin=_gateway_admin,
            first_sealed=lambda: _sealed(demo.school_id) > 0,
            broker_mode=os.environ.get("HOCBA_CHAOS_BROKER", "app"),
        )
        monkey.start()
        deadline = started + DEADLINE
        _drive(pipeline, demo, deadline)
        assert monkey.done.wait(max(1.0, deadline - time.monotonic())), "the chaos schedule did not finish"
        assert monkey.errors == [], "\n".join(monkey.errors)

        # Everything reported, nothing left anywhere in flight.
        counts = wait_for(
            lambda: (c := patiently(lambda: pipeline.counts(demo), "counts")).done and c,
            timeout=max(1.0, deadline - time.monotonic()),
            interval=1,
            what="every record accepted or rejected by the gateway",
        )
        wait_for(
            lambda: (
                not any(patiently(_unpublished, "outboxes").values())
                and all(queue_depth(chaos_env["HOCBA_AMQP_URI"], q) == 0 for q, _ in _consumer_queues())
            ),
            timeout=60,
            interval=1,
            what="every outbox published and every queue drained",
        )
        time.sleep(2)  # the last deliveries' handlers commit

        # Every process was killed once by the monkey, and every one runs again.
        assert sorted(stack.killed) == sorted(names)
        assert set(stack.killed.values()) == {-9}
        assert stack.dead() == []

        # Every record sealed and accepted, none refused.
        assert (counts.students, counts.assembled, counts.sealed, counts.accepted, counts.rejected) == (
            STUDENTS,
            STUDENTS,
            STUDENTS,
            STUDENTS,
            0,
        ), counts

        # The gateway's own books: each year record accepted exactly once, one version, nothing refused; the faults
        # really met submissions.
        with _gateway_admin() as admin:
            stats = admin.get("/_admin/stats").json()
        per_record = stats["year_records"]
        assert len(per_record) == STUDENTS and stats["totals"]["records"] == STUDENTS, stats["totals"]
        assert all(r["accepted"] == 1 for r in per_record.values()), per_record
        assert all([v["version"] for v in r["versions"]] == [1] for r in per_record.values()), per_record
        assert stats["rejected_by_reason"] == {}, stats["rejected_by_reason"]
        assert sum(stats["faults_injected"].values()) > 0, stats["faults_injected"]
        print(
            f"[chaos] gateway: {stats['totals']}, faults injected {stats['faults_injected']}",
            flush=True,
        )

        # No dead letters at all.
        dead = {
            dlq: n for _, dlq in _consumer_queues() if (n := queue_depth(chaos_env["HOCBA_AMQP_URI"], dlq))
        }
        if dead:
            from services.runtime.dlq import show

            for dlq in dead:
                for letter in show(chaos_env["HOCBA_AMQP_URI"], dlq, 3):
                    print(f"[dlq] {dlq}: {letter.reason} {letter.detail[:300]}", flush=True)
        assert dead == {}

        # The audit log holds every audit event each service committed for the school, each exactly once.
        sent = patiently(lambda: _audit_events_sent(demo.school_id), "audit events sent")
        log = patiently(lambda: _audit_log(demo.school_id), "audit log")
        by_service: dict[str, list[str]] = {}
        for entry in log:
            by_service.setdefault(entry["service"], []).append(str(entry["event_id"]))
        for service, ids in sent.items():
            assert sorted(by_service.get(service, [])) == sorted(ids), service
        actions = Counter(e["action"] for e in log)
        print(f"[chaos] audit: {len(log)} entries {dict(actions)}", flush=True)
        _assert_each_fact_once(log, demo)
        verified = wait_for(
            lambda: (
                (
                    v := subprocess.run(
                        [sys.executable, "-m", "cli.main", "audit", "verify", "--school", demo.school_id],
                        capture_output=True,
                        text=True,
                        timeout=120,
                    )
                )
                and BUSY not in v.stdout + v.stderr
                and v
            ),
            timeout=120,
            interval=2,
            what="hocba audit verify to get a database connection",
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        print(f"[chaos] passed in {time.monotonic() - started:.0f}s (seed {seed})", flush=True)
    except BaseException:
        if monkey is not None:
            print("\n".join(monkey.log))
        for name in stack.procs:
            print(f"---- {name} (last lines) ----\n{stack.tail(name, 15)}")
        raise
    finally:
        if monkey is not None:
            monkey.stop.set()
            monkey.done.wait(30)
        stop_stack(stack.all())
