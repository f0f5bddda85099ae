"""A whole stack of one's own for a test: its vhost, databases, ports and gateway, beside everyone else's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli.demo.pipeline import DemoSchool, Pipeline
from cli.registry import SERVICES
from tests.conftest import RUN
from tests.helpers import own_ports

ROOT = Path(__file__).resolve().parents[2]
REHEARSAL_DAY = "2026-06-20"  # before the 2025-2026 cutoff, as in the demo


def _clear_settings() -> None:
    from sandbox.gateway.settings import get_gateway_settings
    from services.runtime.settings import get_settings

    get_settings.cache_clear()
    get_gateway_settings.cache_clear()


@contextmanager
def isolated_stack_env(
    monkeypatch: pytest.MonkeyPatch, label: str, templates: dict[str, str], **extra: str
) -> Iterator[dict[str, str]]:
    """Environment (set in this process, inherited by ``spawn_stack``'s children) for a stack named ``label``:
    fresh migrated databases (copies of the run's ``templates``, the `database_templates` fixture: Alembic ran
    once for the run), a fresh vhost with the platform's topology, the gateway's database dropped, ports from the
    OS; ``extra`` variables on top."""
    from services.runtime.broker import recreate_vhost, setup_broker
    from services.runtime.broker_access import setup_users, table_for
    from services.runtime.db import drop_database
    from services.runtime.settings import get_settings
    from tests.helpers import copy_database

    vhost = f"{RUN}_{label}"
    db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_{label}_{{}}"
    recreate_vhost("http://guest:guest@127.0.0.1:15672", vhost)
    env = {
        "HOCBA_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        **own_ports(),
        "HOCBA_REPORTING_DAY": REHEARSAL_DAY,
        "GATEWAY_TODAY": REHEARSAL_DAY,
        "GATEWAY_LOG_LEVEL": "WARNING",
        # Ten processes beside the other stacks on this machine's PostgreSQL (100 connections in all).
        "HOCBA_DB_POOL_SIZE": "3",
        "HOCBA_DB_URL_GATEWAY": db.format("gateway"),
        **{f"HOCBA_DB_URL_{name.upper()}": db.format(name) for name in SERVICES},
        **extra,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)  # `python -m cli.main` in the children imports this checkout
    _clear_settings()
    for name in SERVICES:
        copy_database(templates[name], db.format(name))
    drop_database(db.format("gateway"))  # the gateway creates it on start
    classes = [e.load() for e in SERVICES.values()]
    setup_broker(get_settings(), classes, SERVICES)
    # Each service and relay logs in as its own user (spawn_stack), with exactly its row of the table: users are
    # cluster-wide, named for this run (HOCBA_BROKER_USER_PREFIX) and deleted at its end (tests/conftest.py).
    setup_users(get_settings(), table_for(classes, SERVICES, get_settings()))
    try:
        yield env
    finally:
        monkeypatch.undo()
        _clear_settings()


def unpublished(env: dict[str, str]) -> int:
    """Outbox rows not yet relayed, over every service."""
    total = 0
    for name in SERVICES:
        engine = create_engine(env[f"HOCBA_DB_URL_{name.upper()}"], pool_size=1)
        try:
            with engine.connect() as conn:
                total += conn.execute(
                    text("select count(*) from outbox where published_at is null")
                ).scalar_one()
        finally:
            engine.dispose()
    return total


def run_school_year(pipeline: Pipeline, demo: DemoSchool, timeout: float = 300) -> None:
    """What the school's people do: load the school, enter and lock the year, sign until every record is reported.

    The school's QR key is in the HSM before its records reach signing, so every page carries the sealed QR."""
    pipeline.provision_qr(demo)
    pipeline.provision_seal(demo)
    pipeline.connect_gateway(demo)
    pipeline.load(demo)
    pipeline.enter_year(demo)
    pipeline.lock_year(demo)
    deadline = time.monotonic() + timeout
    while not (counts := pipeline.counts(demo)).done:
        assert time.monotonic() < deadline, f"not every record reported in {timeout:.0f}s: {counts}"
        if counts.sealed < counts.students:
            pipeline.sign_waiting(demo)
        time.sleep(1)
