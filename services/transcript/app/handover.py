"""A student's học bạ handed over to another school: remember the last sealed record for the next school's chain."""

from __future__ import annotations

from contracts.sync import TranscriptTransferredV1
from services.transcript.app.unit_of_work import TranscriptUnitOfWork

CONSUMER = "transcript.handover"


def receive_handover(event: TranscriptTransferredV1, uow: TranscriptUnitOfWork) -> None:
    """Only the platform that assembled the sending school's records knows the student's MOET code and last
    record; a transfer to or from a school elsewhere simply finds nothing here."""
    # Only the sending school's own học bạ is handed over: an event naming another school's reads as unknown.
    transcript = uow.transcripts.transcript(event.transcript_id, event.from_school)
    last = uow.transcripts.last_record(event.transcript_id) if transcript else None
    if transcript is not None and last is not None:
        uow.transcripts.add_handover(
            {
                "transcript_id": event.transcript_id,
                "to_school": event.to_school,
                "moet_code": transcript.moet_code,
                "school_year": last.school_year,
                "previous_record_sha256": last.xml_sha256,
            }
        )
