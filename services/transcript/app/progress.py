"""A year record's progress after assembly, as the other services report it: sealed, reported, effective."""

from __future__ import annotations

from contracts.signing import TranscriptSealedV1
from contracts.sync import SyncRecordChangedV1
from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.domain.model import Status

CONSUMER = "transcript.progress"
# Events of different services arrive on different queues, in any order: a record only ever moves forward.
_RANK = {Status.ASSEMBLED: 0, Status.SIGNING: 1, Status.SEALED: 2, Status.REPORTED: 3, Status.EFFECTIVE: 4}
# What the sync service's news means here; rejections and withdrawals are its (and the principal's) business.
_REPORTED = {"accepted": Status.REPORTED, "effective": Status.EFFECTIVE}


def consumer_for(status: Status) -> str:
    """One inbox consumer per status: a record's `accepted` and `effective` news are two events to take once each."""
    return f"{CONSUMER}.{status.value}"


def reported_status(event: SyncRecordChangedV1) -> Status | None:
    return _REPORTED.get(event.status)


def reported_consumer(event: SyncRecordChangedV1) -> str | None:
    """The consumer a sync report is claimed under; None for the reports ignored here (left unclaimed)."""
    status = reported_status(event)
    return None if status is None else consumer_for(status)


def record_report(event: SyncRecordChangedV1, uow: TranscriptUnitOfWork) -> None:
    status = reported_status(event)
    if status is not None:  # always, as claimed under `reported_consumer`
        record_progress(event, uow, status)


def record_progress(
    event: TranscriptSealedV1 | SyncRecordChangedV1, uow: TranscriptUnitOfWork, status: Status
) -> None:
    # The news is about one school's record: a record of another school than the event names is not moved.
    record = uow.transcripts.record(event.year_record_id, event.school_id)
    if record is not None:
        current = Status(record.status)
        if current in _RANK and _RANK[status] > _RANK[current]:
            uow.transcripts.set_status(event.year_record_id, status.value)
