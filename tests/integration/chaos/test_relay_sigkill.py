"""Chaos: the relay is SIGKILLed between publish and mark-sent; every event still arrives exactly once."""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from contracts.audit import AuditRecordedV1
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries
from services.gradebook.store.tables import outbox as gradebook_outbox
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine, transaction
from services.runtime.metrics import EVENTS_HANDLED
from services.runtime.outbox import Outbox
from tests.helpers import purge, running, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

ROOT = Path(__file__).resolve().parents[3]
N = 20


def start_relay(**env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "relay", "gradebook"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_relay_killed_between_publish_and_mark_sent_loses_nothing_and_duplicates_are_absorbed(
    amqp_uri, service_databases, unique
):
    gradebook = make_engine(service_databases["gradebook"])
    audit = make_engine(service_databases["audit"])
    school = f"chaos-{unique}"
    with gradebook.begin() as conn:
        conn.execute(gradebook_outbox.delete())
    outbox = Outbox("gradebook", gradebook_outbox)
    with transaction(sessionmaker(gradebook)) as session:
        for n in range(N):
            outbox.add(
                session,
                AuditRecordedV1(
                    service="gradebook",
                    school_id=school,
                    actor_id="u1",
                    actor_role="teacher",
                    action="score.record",
                    entity_type="score",
                    entity_id=f"score-{n}",
                    occurred_at=datetime.now(UTC),
                ),
            )

    def recorded() -> int:
        with audit.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(audit_entries).where(audit_entries.c.school_id == school)
            ).scalar()

    def unpublished() -> int:
        with gradebook.connect() as conn:
            return conn.execute(
                select(func.count()).where(gradebook_outbox.c.published_at.is_(None))
            ).scalar()

    (queue,) = [s.queue for s in subscriptions_of(AuditService) if s.source_service == "gradebook"]

    purge(amqp_uri, queue)
    handled = EVENTS_HANDLED.labels("audit", queue)
    before = handled._value.get()
    with running(AuditService, amqp_uri):
        doomed = start_relay(HOCBA_RELAY_PAUSE_AFTER_PUBLISH="60")
        try:
            # Published and consumed, but the relay has not marked the rows sent yet: kill it right there.
            wait_for(lambda: recorded() == N, timeout=90, what="the first delivery of every event")
            assert unpublished() == N
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
        assert doomed.returncode == -signal.SIGKILL
        assert unpublished() == N  # the kill came between publish and mark-sent

        relay = start_relay()
        try:
            wait_for(
                lambda: unpublished() == 0, timeout=90, what="the restarted relay to mark every row sent"
            )
            wait_for(
                lambda: handled._value.get() - before >= 2 * N, timeout=30, what="the redelivered duplicates"
            )
        finally:
            relay.send_signal(signal.SIGTERM)
            relay.wait(15)
    assert relay.returncode == 0, relay.stderr.read().decode()[-2000:]
    assert recorded() == N  # every event exactly once, though each was published twice
    gradebook.dispose()
    audit.dispose()
