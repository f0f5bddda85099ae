"""What school staff read: year records with their status, and their documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.domain.errors import RecordNotFound
from services.transcript.domain.model import ListedRecord, YearRecordVersion

RECORD_NOT_FOUND = "Không tìm thấy bản ghi học bạ."


def shown(listed: ListedRecord) -> dict[str, Any]:
    """A record as GET /schools/{id}/records lists it: these members in this order (the content hash and the class
    header stay inside)."""
    record = listed.record
    return {
        "id": record.id,
        "transcript_id": record.transcript_id,
        "lookup_code": listed.lookup_code,
        "student_id": listed.student_id,
        "level": listed.level,
        "class_id": record.class_id,
        "school_year": record.school_year,
        "version": record.version,
        "status": record.status,
        "supersedes": record.supersedes,
        "xml_sha256": record.xml_sha256,
        "pdf_sha256": record.pdf_sha256,
        "created_at": record.created_at,
        "status_at": record.status_at,
        "signature_plan": record.signature_plan,
    }


def records(
    uow: TranscriptUnitOfWork,
    school_id: str,
    student_id: str | None,
    lookup_code: str | None,
    *,
    taught_by: str | None = None,
) -> dict[str, Any]:
    """The school's year records; with ``taught_by``, only those of the classes that teacher taught or led."""
    with uow:
        rows = uow.transcripts.records(
            school_id, student_id=student_id, lookup_code=lookup_code, teacher_id=taught_by
        )
    return {"records": [shown(r) for r in rows]}


def taught_by(record: YearRecordVersion, teacher_id: str) -> bool:
    """The year's header names the teacher (the lock's subject and homeroom teachers, a digitised year's plan)."""
    return teacher_id in (record.header or {}).get("teacher_ids", ())


def document(
    uow: TranscriptUnitOfWork, record_id: str, kind: str, permit: Callable[[YearRecordVersion], None]
) -> tuple[bytes, str]:
    """``permit`` sees the record (school, class header) before any document is read, and raises to refuse."""
    with uow:
        record = uow.transcripts.record(record_id)
        if record is None:
            raise RecordNotFound(RECORD_NOT_FOUND)
        permit(record)
        stored = uow.documents.get(record.pdf_sha256 if kind == "pdf" else record.xml_sha256)
    if stored is None:
        raise RecordNotFound("Không tìm thấy tệp của bản ghi học bạ.")
    return stored[0], stored[1]


def stored_document(uow: TranscriptUnitOfWork, sha256: str) -> tuple[bytes, str]:
    with uow:
        stored = uow.documents.get(sha256)
    if stored is None:
        raise RecordNotFound("Không tìm thấy tệp.")
    return stored
