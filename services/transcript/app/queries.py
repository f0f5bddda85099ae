"""What school staff read: year records with their status, and their documents."""

from __future__ import annotations

from typing import Any

from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.domain.errors import RecordNotFound

SHOWN = (
    "id",
    "transcript_id",
    "lookup_code",
    "student_id",
    "level",
    "class_id",
    "school_year",
    "version",
    "status",
    "supersedes",
    "xml_sha256",
    "pdf_sha256",
    "created_at",
    "status_at",
    "signature_plan",
)


def records(
    uow: TranscriptUnitOfWork, school_id: str, student_id: str | None, lookup_code: str | None
) -> dict[str, Any]:
    with uow:
        rows = uow.transcripts.records(school_id, student_id=student_id, lookup_code=lookup_code)
    return {"records": [{k: r[k] for k in SHOWN} for r in rows]}


def document(uow: TranscriptUnitOfWork, record_id: str, kind: str) -> tuple[bytes, str, str]:
    with uow:
        record = uow.transcripts.record(record_id)
        if record is None:
            raise RecordNotFound("Không tìm thấy bản ghi học bạ.")
        stored = uow.documents.get(record["pdf_sha256" if kind == "pdf" else "xml_sha256"])
    if stored is None:
        raise RecordNotFound("Không tìm thấy tệp của bản ghi học bạ.")
    return stored[0], stored[1], record["school_id"]


def stored_document(uow: TranscriptUnitOfWork, sha256: str) -> tuple[bytes, str]:
    with uow:
        stored = uow.documents.get(sha256)
    if stored is None:
        raise RecordNotFound("Không tìm thấy tệp.")
    return stored
