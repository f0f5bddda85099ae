"""Sealed records become submissions; a worker sends them to the gateway until each is accepted or rejected.

Consuming ``transcript.sealed.v1`` only writes a row, so no gateway trouble can ever dead-letter the event. The
worker owns every retry: the same idempotency key each time, exponential backoff with jitter between tries, and
a circuit breaker so an outage is probed rather than flooded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import structlog

from contracts.audit import AuditAction
from contracts.signing import TranscriptSealedV1
from contracts.sync import SyncRecordChangedV1
from services.runtime.calendar import vietnam_today
from services.sync.adapters.gateway import Answer
from services.sync.app.unit_of_work import SyncUnitOfWork
from services.sync.domain.breaker import CircuitBreaker
from services.sync.domain.errors import CutoffPassed
from services.sync.domain.model import NewSubmission, Submission
from services.sync.domain.rules import Backoff, assessment_of, check_before_cutoff, classify, cutoff_for

log = structlog.get_logger(__name__)
CONSUMER_SEALED = "sync.register"
UowFactory = Callable[[], SyncUnitOfWork]
# A school's gateway token, read in the caller's unit of work (app/credentials.py GatewayCredentials.token_of).
TokenOf = Callable[[SyncUnitOfWork, str], str | None]


class Documents(Protocol):
    def get(self, sha256: str) -> bytes: ...


class Gateway(Protocol):
    def submit(self, token: str, key: str, pdf: bytes, xml: bytes, assessment: str) -> Answer: ...

    def replace(
        self, token: str, key: str, record_id: str, pdf: bytes, xml: bytes, reason: str
    ) -> Answer: ...


def register_sealed(event: TranscriptSealedV1, uow: SyncUnitOfWork) -> None:
    operation, replaces, status = "submit", None, "pending"
    # Versions of one year record may arrive in any order (relay replicas publish what each holds; an operator
    # replays a dead letter): one version registered at a time, and one older than a registered one is never sent.
    uow.submissions.lock_year_of(event.transcript_id, event.school_year)
    previous = uow.submissions.get(event.supersedes, lock=True) if event.supersedes else None
    if uow.submissions.newer_version(event.transcript_id, event.school_year, event.version) is not None:
        status = "superseded"
    elif previous is not None:
        if previous.status == "pending" and previous.gateway_record_id is None:
            # Never reached the province: send the new version instead of the old one.
            uow.submissions.update(previous.year_record_id, status="superseded")
            operation, replaces = previous.operation, previous.replaces_gateway_id
        elif previous.status in ("accepted", "pending"):
            operation, replaces = "replace", previous.gateway_record_id
    uow.submissions.add(
        NewSubmission(
            year_record_id=event.year_record_id,
            school_id=event.school_id,
            class_id=event.class_id,
            student_id=event.student_id,
            transcript_id=event.transcript_id,
            school_year=event.school_year,
            grade=event.grade,
            version=event.version,
            supersedes=event.supersedes,
            assessment=assessment_of(event.grade, event.reporting_path),
            lookup_code=event.lookup_code,
            pdf_sha256=event.pdf_sha256,
            xml_sha256=event.record_xml_sha256,
            status=status,
            operation=operation,
            replaces_gateway_id=replaces,
            # One key per (record, version, operation), reused by every retry: the gateway deduplicates on it.
            idempotency_key=f"hocba:{event.year_record_id}:v{event.version}:{operation}",
        )
    )


class Submitter:
    """One per process: its breaker is this replica's view of the gateway's health."""

    def __init__(
        self,
        new_uow: UowFactory,
        gateway: Gateway,
        documents: Documents,
        token_of: TokenOf,
        *,
        breaker: CircuitBreaker | None = None,
        backoff: Backoff | None = None,
        cutoffs: dict[str, str] | None = None,
        today: Callable[[], date] = vietnam_today,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.new_uow, self.gateway, self.documents, self.token_of = new_uow, gateway, documents, token_of
        self.breaker = breaker or CircuitBreaker()
        self.backoff = backoff or Backoff()
        self.cutoffs, self.today, self.clock = cutoffs, today, clock
        self.rng = random.Random()

    def run_once(self, limit: int = 50) -> int:
        """Send up to ``limit`` due submissions; returns how many got a final answer."""
        settled = 0
        for _ in range(limit):
            if not self.breaker.allow(self.clock()):
                break
            with self.new_uow() as uow:
                row = uow.submissions.next_due()
                if row is None:
                    self.breaker.release()  # a probe slot nobody used
                    break
                settled += self._send(uow, row)
                uow.commit()
        return settled

    def _send(self, uow: SyncUnitOfWork, row: Submission) -> int:
        cutoff = cutoff_for(row.school_year, row.assessment, self.cutoffs)
        try:
            check_before_cutoff(self.today(), cutoff, "báo cáo học bạ")
        except CutoffPassed as refused:  # final, said plainly, and the gateway is not called
            self._rejected(uow, row, "cutoff_passed", refused.detail_vi, cutoff)
            return 1
        token = self.token_of(uow, row.school_id)
        if token is None:
            self._retry_later(uow, row, "no gateway credentials for the school")
            return 0
        try:
            pdf, xml = self.documents.get(row.pdf_sha256), self.documents.get(row.xml_sha256)
        except Exception as error:  # noqa: BLE001 - signing unreachable: try again later, the row waits
            self._retry_later(uow, row, f"documents unavailable: {type(error).__name__}")
            return 0
        if row.operation == "replace" and row.replaces_gateway_id:
            answer = self.gateway.replace(
                token,
                row.idempotency_key,
                row.replaces_gateway_id,
                pdf,
                xml,
                "Điều chỉnh theo biên bản",
            )
        else:
            answer = self.gateway.submit(token, row.idempotency_key, pdf, xml, row.assessment)
        outcome = classify(answer.status, answer.reason)
        if outcome == "transient":
            self.breaker.failed(self.clock())
            self._retry_later(uow, row, answer.error or f"gateway answered {answer.status}")
            return 0
        self.breaker.succeeded()
        if outcome == "rejected":
            self._rejected(
                uow, row, answer.reason or f"http_{answer.status}", answer.body.get("detail"), cutoff
            )
            return 1
        gateway_id = answer.body.get("id") or answer.body.get("record_id")
        mark_accepted(uow, row, gateway_id, cutoff, attempts=row.attempts + 1)
        return 1

    def _retry_later(self, uow: SyncUnitOfWork, row: Submission, error: str) -> None:
        attempts = row.attempts + 1
        delay = self.backoff.delay(attempts, self.rng)
        uow.submissions.update(
            row.year_record_id,
            attempts=attempts,
            last_error=error[:500],
            next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
        )
        log.info(
            "sync.retry", year_record_id=row.year_record_id, attempts=attempts, in_seconds=round(delay, 1)
        )

    def _rejected(
        self, uow: SyncUnitOfWork, row: Submission, reason: str, detail: str | None, cutoff: date
    ) -> None:
        uow.submissions.update(
            row.year_record_id,
            status="rejected",
            attempts=row.attempts + 1,
            rejection_reason=reason,
            rejection_detail=(detail or "")[:1000],
        )
        _announce(uow, row, "rejected", cutoff, reason=reason)


def mark_accepted(
    uow: SyncUnitOfWork,
    row: Submission,
    gateway_id: str | None,
    cutoff: date,
    attempts: int | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": "accepted",
        "gateway_record_id": gateway_id,
        "accepted_at": datetime.now(UTC),
        "rejection_reason": None,
        "rejection_detail": None,
    }
    if attempts is not None:
        values["attempts"] = attempts
    uow.submissions.update(row.year_record_id, **values)
    if row.supersedes:
        uow.submissions.update(row.supersedes, status="replaced")
    _announce(uow, replace(row, gateway_record_id=gateway_id), "accepted", cutoff)


def _announce(
    uow: SyncUnitOfWork, row: Submission, status: str, cutoff: date, *, reason: str | None = None
) -> None:
    now = datetime.now(UTC)
    uow.emit(
        SyncRecordChangedV1(
            school_id=row.school_id,
            class_id=row.class_id,
            transcript_id=row.transcript_id,
            year_record_id=row.year_record_id,
            version=row.version,
            status=status,  # type: ignore[arg-type]
            gateway_record_id=row.gateway_record_id,
            reason=reason,
            cutoff=cutoff,
            occurred_at=now,
        ),
        subject=row.year_record_id,
    )
    uow.audit(
        AuditAction(f"province.{status}"),  # accepted, rejected, withdrawn or effective
        entity=row.year_record_id,
        actor="sync",
        role="system",
        school_id=row.school_id,
        changes={"version": str(row.version), **({"reason": reason} if reason else {})},
        occurred_at=now,
        subject=row.year_record_id,
    )
