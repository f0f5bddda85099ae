"""psycopg 3 under eventlet: a slow query must not freeze the service's other green threads."""

import traceback

import eventlet
import psycopg.waiting
import pytest
from eventlet import debug
from sqlalchemy import text

from services.runtime import green
from services.runtime.db import make_engine

pytestmark = pytest.mark.integration

SLEEP = 1.0


def ticks_during_a_slow_query(engine) -> int:
    """How many times another green thread ran while one waited on ``pg_sleep``: counted, not timed, so a loaded
    machine changes the number a little and a blocked hub makes it zero."""
    with engine.connect() as conn:  # warm the pool so connecting is not what we measure
        conn.execute(text("select 1"))
    ticks = 0

    def ticker() -> None:
        nonlocal ticks
        while True:
            eventlet.sleep(0.01)
            ticks += 1

    other = eventlet.spawn(ticker)
    eventlet.sleep(0)  # the ticker has started
    try:
        with engine.connect() as conn:
            started = ticks
            conn.execute(text("select pg_sleep(:s)"), {"s": SLEEP})
            return ticks - started  # read before this green thread yields again
    finally:
        other.kill()


@pytest.fixture
def engine(service_databases):
    engine = make_engine(service_databases["audit"], pool_size=10)
    yield engine
    engine.dispose()


def test_psycopg_waits_through_the_hub_after_patching():
    assert green.psycopg_is_green()


def test_other_green_threads_run_while_a_query_waits(engine):
    # Cooperative: the ticker wakes every 10 ms through a one-second query (about 100 times on an idle machine);
    # blocked in C, not once. A handful is the line.
    assert ticks_during_a_slow_query(engine) >= 5


def slow_query_in_a_green_thread(engine, seconds: float) -> None:
    """``pg_sleep`` in a spawned green thread under eventlet's blocking detector. The detector arms its alarm only
    while the hub runs timers, which is where a spawned thread starts: a query that blocks there in C raises."""
    debug.hub_blocking_detection(True, resolution=1.0)
    try:
        eventlet.spawn(_sleep_in_the_database, engine, seconds).wait()
        eventlet.sleep(0)
    finally:
        debug.hub_blocking_detection(False)


def _sleep_in_the_database(engine, seconds: float) -> None:
    with engine.connect() as conn:
        conn.execute(text("select pg_sleep(:s)"), {"s": seconds})


def test_blocking_detector_stays_quiet_during_a_slow_query(engine):
    # The detector's alarm is wall-clock time: its resolution leaves room for a loaded machine's scheduling, and
    # the query outlasts it three times over. The assertion is that nothing raises (see the control below).
    slow_query_in_a_green_thread(engine, 3)


def test_the_blocking_detector_goes_off_when_psycopg_waits_in_c(engine, monkeypatch):
    """Negative control for the test above: with psycopg's default C wait the same query sets the detector off."""
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    with pytest.raises(Exception) as alarmed:  # the alarm, or the broken connection's cleanup after it
        slow_query_in_a_green_thread(engine, 2)
    assert "Blocking detector ALARMED" in "".join(traceback.format_exception(alarmed.value))


def test_the_check_fails_when_psycopg_waits_in_c(engine, monkeypatch):
    """Negative control: with psycopg's default C wait, the same count shows the hub blocked."""
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    assert ticks_during_a_slow_query(engine) == 0
