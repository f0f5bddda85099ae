"""A term lock is timestamped within seconds, not at the next periodic checkpoint; a TSA outage delays it only."""

import uuid
from datetime import UTC, datetime

import pytest
from asn1crypto import tsp
from pyhanko.sign.timestamps.api import TimeStamper
from sqlalchemy import func, select

from contracts.audit import AuditRecordedV1
from sandbox.ports import free_port
from services.audit.service import AuditService
from services.audit.store.tables import audit_entries, checkpoints
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from services.runtime.timers import timer_runs
from services.runtime.timestamps import HttpxTimeStamper
from tests.helpers import publish_event, running, wait_for

pytestmark = pytest.mark.integration


def _event(school: str, action: str, entity_id: str) -> AuditRecordedV1:
    return AuditRecordedV1(
        service="gradebook",
        school_id=school,
        actor_id="hieu-truong",
        actor_role="principal",
        action=action,
        entity_type="class_term" if action == "term.lock" else "marks",
        entity_id=entity_id,
        occurred_at=datetime.now(UTC),
    )


class SwitchableTsa(TimeStamper):
    """The service's TSA (given to its container as its adapter), unreachable while switched off."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.up = HttpxTimeStamper(url)
        self.down = HttpxTimeStamper(f"http://127.0.0.1:{free_port()}/tsa", timeout=1)
        self.reachable = True

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        tsa = self.up if self.reachable else self.down
        return await tsa.async_request_tsa_response(req)


@pytest.fixture
def tsa(animator):
    return SwitchableTsa(animator)


def test_a_term_lock_is_checkpointed_within_seconds_and_after_a_tsa_outage(amqp_uri, service_databases, tsa):
    assert get_settings().audit_checkpoint_seconds >= 300  # so only the lock can explain a prompt checkpoint
    school = f"lock-{uuid.uuid4().hex[:8]}"
    engine = make_engine(service_databases["audit"])

    def seq_of(action: str) -> int | None:
        with engine.connect() as conn:
            return conn.execute(
                select(func.max(audit_entries.c.chain_seq)).where(
                    audit_entries.c.chain == school, audit_entries.c.action == action
                )
            ).scalar()

    def checkpointed() -> int:
        with engine.connect() as conn:
            return conn.execute(
                select(func.coalesce(func.max(checkpoints.c.chain_seq), 0)).where(
                    checkpoints.c.chain == school
                )
            ).scalar_one()

    def runs() -> float:
        return timer_runs("audit", "checkpoint_locks")

    def after_two_more_runs() -> None:
        """Long enough for a due checkpoint to have been taken: two whole runs of the lock timer from now."""
        start = runs()
        wait_for(lambda: runs() >= start + 2, what="two runs of the lock checkpoint timer")

    try:
        with running(
            AuditService,
            amqp_uri,
            SETTINGS={"audit_lock_checkpoint_seconds": 0.3},
            ADAPTERS={"timestamper": tsa},
        ):
            publish_event(
                amqp_uri, _event(school, "marks.record", "class/c1/student/s1/toan/hk1"), "gradebook"
            )
            wait_for(lambda: seq_of("marks.record"), what="the mark's entry")
            after_two_more_runs()
            assert checkpointed() == 0  # a mark alone waits for the periodic checkpoint

            publish_event(amqp_uri, _event(school, "term.lock", "class/c1/2025-2026/hk1"), "gradebook")
            lock_seq = wait_for(lambda: seq_of("term.lock"), what="the lock's entry")
            wait_for(lambda: checkpointed() >= lock_seq, timeout=60, what="a checkpoint covering the lock")

            tsa.reachable = False
            publish_event(amqp_uri, _event(school, "term.lock", "class/c2/2025-2026/hk1"), "gradebook")
            second = wait_for(lambda: (s := seq_of("term.lock")) and s > lock_seq and s, what="the 2nd lock")
            after_two_more_runs()
            assert checkpointed() < second  # recorded all the same; the checkpoint waits for the TSA

            tsa.reachable = True
            wait_for(lambda: checkpointed() >= second, timeout=60, what="the checkpoint once the TSA is back")
    finally:
        engine.dispose()
