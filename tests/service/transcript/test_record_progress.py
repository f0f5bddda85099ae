"""Other services' news about a year record fed straight to transcript: it only ever moves forward, once per news.

The handler reads and sets one record's status, so it runs on the runtime's in-memory unit of work: no database.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.signing import TranscriptSealedV1
from contracts.sync import SyncRecordChangedV1
from services.runtime.consume import handle_once
from services.runtime.uow import InMemoryUnitOfWork
from services.transcript.app import progress
from services.transcript.domain.model import Status, YearRecordVersion

SCHOOL = "s1"


def version(record_id: str, status: Status) -> YearRecordVersion:
    assembled_at = datetime(2026, 5, 15, 9, 0, tzinfo=UTC)
    return YearRecordVersion(
        id=record_id,
        transcript_id="hb-1",
        school_id=SCHOOL,
        class_id="c1",
        school_year="2025-2026",
        version=1,
        status=status.value,
        content_hash="d" * 64,
        xml_sha256="b" * 64,
        pdf_sha256="a" * 64,
        supersedes=None,
        signature_plan=[],
        header={},
        created_at=assembled_at,
        status_at=assembled_at,
    )


class Records:
    """The part of `TranscriptRepository` the handler uses, over a dict of year records."""

    def __init__(self, **statuses: Status) -> None:
        self.rows = {rid: version(rid, s) for rid, s in statuses.items()}

    def record(self, record_id: str, school_id: str | None = None) -> YearRecordVersion | None:
        row = self.rows.get(record_id)
        return row if row is not None and school_id in (None, row.school_id) else None

    def set_status(self, record_id: str, status: str) -> None:
        self.rows[record_id] = replace(self.rows[record_id], status=status)


class Transcript:
    """The transcript service's consumers of progress news (`TranscriptService.on_sealed` / `on_reported`)."""

    def __init__(self, records: Records) -> None:
        self.records, self.claims = records, set[tuple[str, str]]()

    def unit_of_work(self, *, correlation_id: str | None = None) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork("transcript", claims=self.claims, transcripts=self.records)

    def deliver(self, envelope: Envelope[Any]) -> bool:
        if isinstance(envelope.data, TranscriptSealedV1):
            consumer = progress.consumer_for(Status.SEALED)
            return handle_once(
                envelope,
                consumer,
                self.unit_of_work,
                lambda env, uow: progress.record_progress(env.data, uow, Status.SEALED),
            )
        reported = progress.reported_consumer(envelope.data)
        assert reported is not None
        return handle_once(
            envelope, reported, self.unit_of_work, lambda env, uow: progress.record_report(env.data, uow)
        )

    def status(self, record_id: str) -> str:
        return self.records.rows[record_id].status


def sealed(record_id: str, school_id: str = SCHOOL) -> Envelope[TranscriptSealedV1]:
    event = TranscriptSealedV1(
        school_id=school_id,
        class_id="c1",
        student_id="hs-1",
        transcript_id="hb-1",
        year_record_id=record_id,
        school_year="2025-2026",
        grade=8,
        version=1,
        lookup_code=uuid.uuid4().hex,
        pdf_document_id="a" * 64,
        pdf_sha256="a" * 64,
        record_xml_sha256="b" * 64,
        xml_document_id="c" * 64,
        xml_sha256="c" * 64,
        signatures=4,
        sealed_at=datetime(2026, 5, 20, 9, 0, tzinfo=UTC),
    )
    return Envelope.wrap(event, source_service="signing")


def reported(record_id: str, status: str) -> Envelope[SyncRecordChangedV1]:
    event = SyncRecordChangedV1(
        school_id=SCHOOL,
        class_id="c1",
        transcript_id="hb-1",
        year_record_id=record_id,
        version=1,
        status=status,  # type: ignore[arg-type]
        cutoff=date(2026, 6, 30),
        occurred_at=datetime(2026, 5, 21, 9, 0, tzinfo=UTC),
    )
    return Envelope.wrap(event, source_service="sync")


def test_a_record_moves_from_assembled_to_sealed_to_reported_to_effective():
    transcript = Transcript(Records(yr1=Status.ASSEMBLED))

    assert transcript.deliver(sealed("yr1"))
    assert transcript.status("yr1") == "sealed"
    assert transcript.deliver(reported("yr1", "accepted"))
    assert transcript.status("yr1") == "reported"
    assert transcript.deliver(reported("yr1", "effective"))
    assert transcript.status("yr1") == "effective"


def test_news_arriving_late_never_moves_a_record_back():
    transcript = Transcript(Records(yr1=Status.ASSEMBLED))

    assert transcript.deliver(reported("yr1", "accepted"))  # sync's queue was quicker than signing's
    assert transcript.deliver(sealed("yr1"))

    assert transcript.status("yr1") == "reported"


def test_a_redelivery_is_claimed_once_and_another_schools_news_moves_nothing():
    transcript = Transcript(Records(yr1=Status.ASSEMBLED, yr2=Status.ASSEMBLED))
    news = sealed("yr1")

    assert transcript.deliver(news)
    assert not transcript.deliver(news)
    assert transcript.deliver(sealed("yr2", school_id="s-other"))

    assert (transcript.status("yr1"), transcript.status("yr2")) == ("sealed", "assembled")
    assert len(transcript.claims) == 2  # the other school's news is taken (once), only it moves nothing
    assert (progress.consumer_for(Status.SEALED), str(news.id)) in transcript.claims


def test_a_handler_that_fails_keeps_neither_its_claim_nor_its_writes():
    records = Records(yr1=Status.ASSEMBLED)
    transcript = Transcript(records)
    news = sealed("yr1")

    def half_done(env: Envelope[TranscriptSealedV1], uow: InMemoryUnitOfWork) -> None:
        progress.record_progress(env.data, uow, Status.SEALED)
        raise RuntimeError("crashed after the write")

    with pytest.raises(RuntimeError):
        handle_once(news, progress.consumer_for(Status.SEALED), transcript.unit_of_work, half_done)

    assert (transcript.status("yr1"), transcript.claims) == ("assembled", set())
    assert transcript.deliver(news)  # the replay from the DLQ is handled
    assert transcript.status("yr1") == "sealed"
