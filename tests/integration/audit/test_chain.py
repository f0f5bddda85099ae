"""The audit log is append-only and hash-chained: tampering as the owner is found and named by `hocba audit verify`."""

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.main import app
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app import handlers
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.audit.domain.chain import GENESIS, ChainedEntry, entry_hash, verify
from services.runtime.consume import handle_once
from services.runtime.data_key import DataVault
from services.runtime.db import make_engine

pytestmark = pytest.mark.integration


@pytest.fixture
def school_log(service_databases):
    """A fresh school with 6 entries appended through the real handler."""
    engine = make_engine(service_databases["audit"])
    school = f"chain-{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
    for n in range(6):
        event = AuditRecordedV1(
            service="gradebook",
            school_id=school,
            actor_id=f"gv-{n}",
            actor_role="teacher",
            action="marks.record",
            entity_type="marks",
            entity_id=f"class/c1/student/s{n}/toan/hk1",
            changes={"final": f"{n} → {n + 1}"},
            occurred_at=start + timedelta(minutes=n),
        )
        assert handle_once(
            Envelope.wrap(event, source_service="gradebook"),
            handlers.CONSUMER,
            partial(AuditUnitOfWork, sessionmaker(engine)),
            partial(handlers.record, source="gradebook", vault=DataVault.from_settings()),
        )
    yield engine, school
    engine.dispose()


def run_verify(school: str):
    return CliRunner().invoke(app, ["audit", "verify", "--school", school])


def as_owner(engine, *statements: str) -> None:
    """What only the table's owner can do: switch the append-only trigger off, tamper, switch it back on."""
    with engine.begin() as conn:
        conn.execute(text("alter table audit_entries disable trigger audit_entries_append_only"))
        for statement in statements:
            conn.execute(text(statement))
        conn.execute(text("alter table audit_entries enable trigger audit_entries_append_only"))


def test_a_clean_log_verifies(school_log):
    engine, school = school_log
    result = run_verify(school)
    assert result.exit_code == 0 and "intact" in result.stdout


def test_the_service_role_cannot_update_or_delete(school_log):
    engine, school = school_log
    for statement in (
        f"update audit_entries set actor_id = 'x' where chain = '{school}'",
        f"delete from audit_entries where chain = '{school}'",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.parametrize(
    ("tamper", "seq", "words"),
    [
        (
            "update audit_entries set actor_id = 'principal-x' where chain = '{s}' and chain_seq = 3",
            3,
            "edited",
        ),
        (
            "update audit_entries set record = jsonb_set(record, '{{changes,final}}', '\"1 → 9\"') "
            "where chain = '{s}' and chain_seq = 2",
            2,
            "edited",
        ),
        ("delete from audit_entries where chain = '{s}' and chain_seq = 4", 4, "missing"),
        ("delete from audit_entries where chain = '{s}' and chain_seq = 6", 6, "deleted"),
    ],
)
def test_edited_or_deleted_rows_are_named(school_log, tamper, seq, words):
    engine, school = school_log
    as_owner(engine, tamper.format(s=school))
    result = run_verify(school)
    assert result.exit_code == 1
    assert f"broken at {seq}:" in result.stdout.replace("\n", " ") and words in result.stdout


def test_two_swapped_rows_are_found(school_log):
    engine, school = school_log
    # Swap the stored positions of entries 2 and 3 (their content and hashes travel with them).
    as_owner(
        engine,
        f"update audit_entries set chain_seq = -2 where chain = '{school}' and chain_seq = 2",
        f"update audit_entries set chain_seq = 2 where chain = '{school}' and chain_seq = 3",
        f"update audit_entries set chain_seq = 3 where chain = '{school}' and chain_seq = -2",
    )
    result = run_verify(school)
    assert result.exit_code == 1 and "broken at 2:" in result.stdout


def test_a_forged_rehashed_row_is_caught_by_the_next_link():
    entries, prev = [], GENESIS
    for seq in (1, 2, 3):
        content = {"n": seq}
        sealed = entry_hash(content, seq, prev)
        entries.append(ChainedEntry(seq, content, prev, sealed))
        prev = sealed
    forged = {"n": 99}
    entries[1] = ChainedEntry(2, forged, entries[0].entry_hash, entry_hash(forged, 2, entries[0].entry_hash))
    problem = verify(entries)
    assert problem is not None and problem.seq == 3 and "link" in problem.reason


def test_personal_values_sent_by_mistake_are_stored_as_keyed_hashes(service_databases):
    from sqlalchemy import select

    from services.audit.store.tables import audit_entries

    engine = make_engine(service_databases["audit"])
    school = f"pii-{uuid.uuid4().hex[:8]}"
    for n in range(2):
        event = AuditRecordedV1(
            service="gradebook",
            school_id=school,
            actor_id="gv",
            actor_role="teacher",
            action="student.update",
            entity_type="student",
            entity_id=f"s{n}",
            changes={"personal_id": "001312345678", "note": "CCCD 001312345678 cập nhật"},
            occurred_at=datetime.now(UTC),
        )
        handle_once(
            Envelope.wrap(event, source_service="gradebook"),
            handlers.CONSUMER,
            partial(AuditUnitOfWork, sessionmaker(engine)),
            partial(handlers.record, source="gradebook", vault=DataVault.from_settings()),
        )
    with engine.connect() as conn:
        records = (
            conn.execute(
                select(audit_entries.c.record)
                .where(audit_entries.c.school_id == school)
                .order_by(audit_entries.c.chain_seq)
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert "001312345678" not in str(records)
    first, second = (r["changes"]["personal_id"] for r in records)
    assert first.startswith("hmac:") and first == second  # the same person, linkable without the number
    assert run_verify(school).exit_code == 0
