"""The benches' baselines do what their labels say: backbone's raw kombu waits for confirms exactly as often as
the relay's batch allows; audit's plain-psycopg chain is a chain the audit service's verifier accepts."""

import json
import math
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from psycopg.errors import UniqueViolation

from cli.bench.audit_baseline import BASELINE_TABLES, append_all, batches, conninfo
from services.audit.domain.chain import ChainedEntry, verify
from services.audit.domain.entry import AuditEntry
from services.audit.store.repository import CONTENT_COLUMNS

pytestmark = pytest.mark.integration


def test_backbone_s_baseline_confirms_in_the_relay_s_batches(amqp_uri):
    from services.runtime.settings import get_settings

    events = 450  # two full batches of 200 and a short one
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", "backbone", "--events", str(events), "--json"],
        env={**os.environ, "HOCBA_AMQP_URI": amqp_uri},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])  # the tables print above it
    assert result["batch"] == get_settings().relay_batch_size == 200
    assert result["raw_kombu_confirm_rounds"] == math.ceil(events / result["batch"]) == 3
    assert result["relay_confirm_rounds"] >= 3  # at most a batch per wait on our side too
    assert f"confirms per batch of {result['batch']}" in done.stdout + done.stderr


def _entries(schools: list[str], n: int) -> list[AuditEntry]:
    start = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
    return [
        AuditEntry(
            event_id=uuid.uuid4(),
            service="gradebook",
            school_id=schools[i % len(schools)],
            actor_id=f"gv-{i}",
            actor_role="teacher",
            action="marks.record",
            entity_type="marks",
            entity_id=f"class/c1/student/s{i}/toan/hk1",
            record={"changes": {"final": f"{i} → {i + 1}"}},
            reason=None,
            occurred_at=start + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def test_the_audit_baseline_cuts_transactions_of_one_chain_in_arrival_order():
    entries = _entries(["a", "b", "c"], 20)
    groups = batches(entries, 3)
    assert all(len(g) <= 3 and len({e.school_id for e in g}) == 1 for g in groups)
    assert [g[0].school_id for g in groups[:3]] == [
        "a",
        "b",
        "c",
    ]  # interleaved as they arrived, not a chain at a time
    for school in "abc":
        assert [e for g in groups for e in g if e.school_id == school] == [
            e for e in entries if e.school_id == school
        ]


def test_the_audit_baseline_appends_a_chain_the_verifier_accepts(service_databases):
    import psycopg

    url = service_databases["audit"]
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(BASELINE_TABLES)
    schools = ["bench-a", "bench-b"]
    entries = _entries(schools, 30)
    append_all(url, entries[:12], batch=1, concurrency=3)
    append_all(url, entries[12:], batch=5, concurrency=3)
    with psycopg.connect(conninfo(url)) as conn:
        for school in schools:
            rows = conn.execute(
                f"select {', '.join(CONTENT_COLUMNS)}, chain_seq, prev_hash, entry_hash "
                "from bare_chain_entries where chain = %s order by chain_seq",
                (school,),
            ).fetchall()
            chained = [
                ChainedEntry(r[-3], AuditEntry(*r[: len(CONTENT_COLUMNS)]).content(), r[-2], r[-1])
                for r in rows
            ]
            head = conn.execute(
                "select last_seq, last_hash from bare_chain_heads where chain = %s", (school,)
            ).fetchone()
            assert len(chained) == 15
            assert verify(chained, *head) is None
        # An event stored twice is refused, as the audit service's inbox refuses it.
        with pytest.raises(UniqueViolation):
            append_all(url, entries[:1], batch=1, concurrency=1)
