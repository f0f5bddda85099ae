"""A year record's progress after assembly, as the other services report it: sealed, reported, effective."""

from __future__ import annotations

from typing import Any

from services.transcript.app.handlers import UowFactory
from services.transcript.domain.model import Status

CONSUMER = "transcript.progress"
# Events of different services arrive on different queues, in any order: a record only ever moves forward.
_RANK = {Status.ASSEMBLED: 0, Status.SIGNING: 1, Status.SEALED: 2, Status.REPORTED: 3, Status.EFFECTIVE: 4}


def record_progress(envelope: Any, new_uow: UowFactory, year_record_id: str, status: Status) -> None:
    with new_uow() as uow:
        if not uow.first_delivery(f"{CONSUMER}.{status.value}", envelope.id):
            return
        # The news is about one school's record: a record of another school than the event names is not moved.
        record = uow.transcripts.record(year_record_id, envelope.data.school_id)
        if record is not None:
            current = Status(record["status"])
            if current in _RANK and _RANK[status] > _RANK[current]:
                uow.transcripts.set_status(year_record_id, status.value)
        uow.commit()
