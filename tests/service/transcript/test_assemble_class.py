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


def amendment(lock, student_id: str, year: str, approved_at) -> Envelope:
    """The principal's approved amendment of ``student_id``'s Toán to ``year``, as gradebook publishes it."""
    from contracts.gradebook import AmendmentAppliedV1

    locked = lock.snapshot
    students = [
        s.model_copy(update={"subjects": [s.subjects[0].model_copy(update={"year": year})]})
        if s.student_id == student_id
        else s
        for s in locked.students
    ]
    snapshot = locked.model_copy(update={"students": students})
    event = AmendmentAppliedV1(
        amendment_id=f"am-{uuid.uuid4().hex[:8]}",
        school_id=lock.school_id,
        class_id=lock.class_id,
        school_year=lock.school_year,
        term="hk2",
        student_id=student_id,
        subject_code="toan",
        reason="Nhập nhầm điểm cuối kỳ",
        proposed_by="gv-toan",
        approved_by="p1",
        approved_at=approved_at,
        snapshot=snapshot,
    )
    return Envelope.wrap(event, source_service="gradebook")


def amend(envelope, engine, opened) -> bool:
    """What `TranscriptService.on_amendment_applied` does with a delivery, minus the broker."""
    from services.transcript.app.handlers import CONSUMER_AMENDED, apply_amendment

    return handle_once(
        envelope,
        CONSUMER_AMENDED,
        units_of_work(TranscriptUnitOfWork, engine, opened),
        lambda env, uow: apply_amendment(env.data, uow, ASSEMBLY),
    )


def toan_year_printed(engine, opened, student_id: str) -> list[str]:
    """The Toán year result in the XML of every record announced for ``student_id``, in order."""
    from lxml import etree

    from services.transcript.store.tables import documents

    shown = []
    for e in published(opened):
        if e.type == TranscriptAssembledV1.ce_type() and e.data.student_id == student_id:
            with engine.connect() as conn:
                xml = conn.execute(
                    select(documents.c.content).where(documents.c.sha256 == e.data.xml_sha256)
                ).scalar_one()
            ns = {"h": "urn:hocba:transcript:1"}
            shown += etree.fromstring(bytes(xml)).xpath(
                "//h:Subject[@code='toan']/h:Year/text()", namespaces=ns
            )
    return shown


def test_an_amendment_that_arrives_before_the_lock_it_corrects_is_kept_and_the_record_carries_it(engine):
    """The lock failed and waits in its dead-letter queue while the principal approves an amendment; the amendment's
    event comes first. Replaying the lock must build the amended values, not the locked ones."""
    from datetime import timedelta

    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1", "hs-2"], MATHS_TEACHER), school_id=school)  # Toán 8.0 for both
    opened: list[TranscriptUnitOfWork] = []
    correction = amendment(lock, "hs-1", "9.5", approved_at=lock.locked_at + timedelta(hours=2))

    assert amend(correction, engine, opened)  # handled: kept, not dropped
    assert records_of(engine, school) == []
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)  # the replayed lock

    assert toan_year_printed(engine, opened, "hs-1") == ["9.5"]  # one record, already amended
    assert toan_year_printed(engine, opened, "hs-2") == ["8.0"]
    assert {r["version"] for r in records_of(engine, school)} == {1}
    # Applied once: the lock sent again under a new id (a producer's retry) builds nothing more.
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)
    assert {r["version"] for r in records_of(engine, school)} == {1}


def test_a_kept_amendment_older_than_the_lock_is_already_in_it(engine):
    """A term I amendment approved in January, before the year's lock: the lock's snapshot holds its values; the
    kept copy must not override a later change the lock carries."""
    from datetime import timedelta

    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1"], MATHS_TEACHER), school_id=school)
    opened: list[TranscriptUnitOfWork] = []
    assert amend(
        amendment(lock, "hs-1", "6.0", approved_at=lock.locked_at - timedelta(days=90)), engine, opened
    )
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)
    assert toan_year_printed(engine, opened, "hs-1") == ["8.0"]


def test_the_year_s_lock_replayed_after_an_amendment_does_not_bring_the_old_values_back(engine):
    from datetime import timedelta

    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1"], MATHS_TEACHER), school_id=school)
    opened: list[TranscriptUnitOfWork] = []
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)
    assert amend(
        amendment(lock, "hs-1", "9.5", approved_at=lock.locked_at + timedelta(days=1)), engine, opened
    )
    assert toan_year_printed(engine, opened, "hs-1") == ["8.0", "9.5"]  # version 2 carries the correction
    # Support replays the lock from a dead-letter queue (a new delivery of the same event).
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)
    assert toan_year_printed(engine, opened, "hs-1") == ["8.0", "9.5"]  # no version 3 with 8.0 again
    assert sorted(r["version"] for r in records_of(engine, school)) == [1, 2]


def test_the_path_the_gradebook_decided_travels_with_the_assembled_record(engine):
    """A student sent to a re-test: the gradebook's snapshot says supplementary; the record's effective date is
    15 August and its announcement carries the path on to signing and sync."""
    school = f"s-{uuid.uuid4().hex[:8]}"
    snapshot = maths_class(["hs-1", "hs-2"], MATHS_TEACHER)
    retest = snapshot.students[0].model_copy(
        update={"year": {"promotion": "kiểm tra lại", "reporting_path": "supplementary"}}
    )
    lock = term_locked(
        snapshot.model_copy(update={"students": [retest, snapshot.students[1]]}), school_id=school
    )
    opened: list[TranscriptUnitOfWork] = []
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)
    paths = {
        e.data.student_id: e.data.reporting_path
        for e in published(opened)
        if e.type == TranscriptAssembledV1.ce_type()
    }
    assert paths == {"hs-1": "supplementary", "hs-2": "regular"}


def test_an_older_lock_delivered_after_a_newer_one_of_the_same_class_builds_nothing(engine):
    """The principal unlocked the year, corrected Toán to 9.0 and locked again; two relay replicas publish the two
    locks out of order (or support replays the first from a dead-letter queue): the first lock must not bring 8.0
    back as a new version."""
    from datetime import timedelta

    from contracts.gradebook import SubjectResult

    school = f"s-{uuid.uuid4().hex[:8]}"
    first = term_locked(maths_class(["hs-1"], MATHS_TEACHER), school_id=school)  # Toán 8.0
    as_locked = maths_class(["hs-1"], MATHS_TEACHER, content_hash="1" * 64)
    student = as_locked.students[0].model_copy(
        update={"subjects": [SubjectResult(subject_code="toan", year="9.0")]}
    )
    corrected = as_locked.model_copy(update={"students": [student]})
    second = term_locked(corrected, school_id=school, locked_at=first.locked_at + timedelta(hours=3))
    opened: list[TranscriptUnitOfWork] = []

    assert assemble(Envelope.wrap(second, source_service="gradebook"), engine, opened)
    assert assemble(Envelope.wrap(first, source_service="gradebook"), engine, opened)

    assert toan_year_printed(engine, opened, "hs-1") == ["9.0"]
    assert [r["version"] for r in records_of(engine, school)] == [1]


def test_an_amendment_delivered_after_a_later_one_of_the_same_class_brings_no_old_value_back(engine):
    """Toán corrected to 9.0, then (the next day) to 9.5: delivered the other way round (relay replicas, or a replay
    from a dead-letter queue), the first correction must not become a version 3 with 9.0."""
    from datetime import timedelta

    school = f"s-{uuid.uuid4().hex[:8]}"
    lock = term_locked(maths_class(["hs-1"], MATHS_TEACHER), school_id=school)
    opened: list[TranscriptUnitOfWork] = []
    assert assemble(Envelope.wrap(lock, source_service="gradebook"), engine, opened)
    first = amendment(lock, "hs-1", "9.0", approved_at=lock.locked_at + timedelta(days=1))
    second = amendment(lock, "hs-1", "9.5", approved_at=lock.locked_at + timedelta(days=2))

    assert amend(second, engine, opened)
    assert amend(first, engine, opened)

    assert toan_year_printed(engine, opened, "hs-1") == ["8.0", "9.5"]
    assert sorted(r["version"] for r in records_of(engine, school)) == [1, 2]
