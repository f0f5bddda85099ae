"""Sync's records as the app layer reads them: the store maps SQL rows to these, nothing here knows SQL.

Frozen and slotted, like the gradebook's (services/gradebook/domain/model.py): a row read in a transaction is a
fact of that transaction; a change is written through the repository, and a changed copy made with
``dataclasses.replace`` where the app must announce the new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NewSubmission:
    """A sealed year record version registered for the gateway, before the store adds its tries and timestamps."""

    year_record_id: str
    school_id: str
    class_id: str
    student_id: str
    transcript_id: str
    school_year: str
    grade: int
    version: int
    supersedes: str | None
    assessment: str  # regular or supplementary (domain/rules.py Assessment)
    lookup_code: str
    pdf_sha256: str
    xml_sha256: str
    status: str
    operation: str  # submit or replace
    replaces_gateway_id: str | None
    # One key per (record, version, operation), reused by every retry: the gateway deduplicates on it.
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Submission:
    """One sealed year record version on its way to the province, or its answer. Field order is the table's."""

    year_record_id: str
    school_id: str
    class_id: str
    student_id: str
    transcript_id: str
    school_year: str
    grade: int
    version: int
    supersedes: str | None
    assessment: str
    lookup_code: str
    pdf_sha256: str
    xml_sha256: str
    # pending, accepted, rejected, withdrawn, replaced or superseded (never sent)
    status: str
    operation: str
    replaces_gateway_id: str | None
    idempotency_key: str
    gateway_record_id: str | None
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    rejection_reason: str | None
    rejection_detail: str | None
    created_at: datetime
    accepted_at: datetime | None
    withdrawn_at: datetime | None
    # Announced effective: the cutoff passed and the province's copy can no longer change.
    effective_at: datetime | None


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """A receiving school's request for a student's học bạ (chuyển trường), and the sending principal's decision."""

    id: str
    from_school: str  # the sending school: its principal decides
    to_school: str  # the receiving school, which asked
    transcript_id: str  # the học bạ at the sending school
    status: str  # pending, approved or refused
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None  # why the sending principal refused
    gateway_transfer_id: str | None = None  # the province's id of the handover
