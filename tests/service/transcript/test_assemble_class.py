"""The year's lock fed straight to transcript's handler: one year record per student, and never twice.

No gradebook and no relay: the TermLockedV1 is built here (tests/factories.py), as the gradebook publishes it.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from contracts.envelope import Envelope
from contracts.transcript import TranscriptAssembledV1
from services.runtime.consume import handle_once
from services.runtime.data_key import DataVault
from services.transcript.app.handlers import CONSUMER_LOCKED, Assembly, assemble_class
from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.store.tables import year_records
from tests.factories import MATHS_TEACHER, maths_class, term_locked
from tests.service.support import database, published, units_of_work

pytestmark = pytest.mark.integration  # the transcript database only

ASSEMBLY = Assembly("https://tracuu.example.vn/hocba", DataVault.from_settings(), {})


engine = database("transcript")


def assemble(envelope, engine, opened) -> bool:
    """What `TranscriptService.on_term_locked` does with a delivery, minus the broker."""
    return handle_once(
        envelope,
        CONSUMER_LOCKED,
        units_of_work(TranscriptUnitOfWork, engine, opened),
        lambda env, uow: assemble_class(env.data, uow, ASSEMBLY),
    )


def records_of(engine, school_id: str) -> list[dict]:
    with engine.connect() as conn:
        query = select(year_records).where(year_records.c.school_id == school_id)
        return [dict(r) for r in conn.execute(query.order_by(year_records.c.id)).mappings()]


def test_the_year_lock_assembles_one_record_per_student_and_announces_each(engine):
    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1", "hs-2", "hs-3"], MATHS_TEACHER), school_id=school)
    opened: list[TranscriptUnitOfWork] = []

    assert assemble(Envelope.wrap(lock, source_service="gradebook", correlation_id="req-1"), engine, opened)

    records = records_of(engine, school)
    assert len(records) == 3
    assert {r["version"] for r in records} == {1}
    assembled = [e for e in published(opened) if e.type == TranscriptAssembledV1.ce_type()]
    assert sorted(e.data.student_id for e in assembled) == ["hs-1", "hs-2", "hs-3"]
    assert {e.data.year_record_id for e in assembled} == {r["id"] for r in records}
    assert {e.correlationid for e in published(opened)} == {"req-1"}  # carried on from the lock


def test_a_redelivered_lock_builds_nothing_more_nor_does_the_same_lock_sent_again(engine):
    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1", "hs-2"], MATHS_TEACHER), school_id=school)
    delivery = Envelope.wrap(lock, source_service="gradebook")
    opened: list[TranscriptUnitOfWork] = []
    assert assemble(delivery, engine, opened)
    first = records_of(engine, school)

    assert not assemble(delivery, engine, opened)  # the same delivery again: the inbox claim skips it
    # The same lock under a new event id (a producer's retry): claimed, but the content hash matches.
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)

    assert records_of(engine, school) == first
    assert len([e for e in published(opened) if e.type == TranscriptAssembledV1.ce_type()]) == 2


def test_a_term_one_lock_builds_no_record(engine):
    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1"], MATHS_TEACHER), school_id=school, term="hk1")
    opened: list[TranscriptUnitOfWork] = []

    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)

    assert records_of(engine, school) == []
    assert published(opened) == []
