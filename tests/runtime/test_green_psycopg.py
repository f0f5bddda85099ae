"""psycopg 3 under eventlet: a slow query must not freeze the service's other green threads."""

import time

import eventlet
import psycopg.waiting
import pytest
from eventlet import debug
from sqlalchemy import text

from services.runtime import green
from services.runtime.db import make_engine

pytestmark = pytest.mark.integration

SLEEP = 0.5


def concurrent_sleeps(engine, n: int = 10) -> float:
    with engine.connect() as conn:  # warm the pool so connecting is not what we time
        conn.execute(text("select 1"))

    def one(_):
        with engine.connect() as conn:
            conn.execute(text("select pg_sleep(:s)"), {"s": SLEEP})

    started = time.monotonic()
    list(eventlet.GreenPool(n).imap(one, range(n)))
    return time.monotonic() - started


@pytest.fixture
def engine(service_databases):
    engine = make_engine(service_databases["audit"], pool_size=10)
    yield engine
    engine.dispose()


def test_psycopg_waits_through_the_hub_after_patching():
    assert green.psycopg_is_green()


def test_ten_concurrent_slow_queries_finish_in_about_the_time_of_one(engine):
    elapsed = concurrent_sleeps(engine)
    # Blocked, they would take 10 × 0.5 s = 5 s; cooperative, about 0.5 s. Half the blocked time is the line.
    assert elapsed < 10 * SLEEP / 2, (
        f"10 concurrent pg_sleep({SLEEP}) took {elapsed:.2f}s: the hub was blocked"
    )


def test_blocking_detector_stays_quiet_during_a_slow_query(engine):
    debug.hub_blocking_detection(True, resolution=0.2)
    try:
        with engine.connect() as conn:
            conn.execute(text("select pg_sleep(0.6)"))
        eventlet.sleep(0)
    finally:
        debug.hub_blocking_detection(False)


def test_the_check_fails_when_psycopg_waits_in_c(engine, monkeypatch):
    """Negative control: with psycopg's default C wait, the same measurement shows the hub blocked."""
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    elapsed = concurrent_sleeps(engine, n=4)
    assert elapsed > 4 * SLEEP * 0.9
