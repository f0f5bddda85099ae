"""Records whose persons have all signed get the school's seal, then ``transcript.sealed.v1`` goes out."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Protocol, cast

import structlog

from contracts.audit import AuditAction
from contracts.signing import TranscriptSealedV1
from contracts.transcript import ReportingPath
from services.runtime.metrics import SEALS_STUCK
from services.signing.app.handlers import UowFactory
from services.signing.documents import xml as xml_doc
from services.signing.domain.errors import SealUnavailable
from services.signing.domain.model import Step

log = structlog.get_logger(__name__)


class SealApplier(Protocol):
    def seal(self, school_id: str, step: Step, pdf: bytes, package: bytes) -> tuple[bytes, bytes]: ...


STUCK_AFTER = 3  # failed tries after which a record is reported stuck (status, metric)


def seal_waiting(new_uow: UowFactory, sealer: SealApplier, limit: int = 20) -> int:
    """Seal up to ``limit`` records; replicas share the queue (SKIP LOCKED). Returns how many were sealed.

    A record whose seal fails — no seal key yet, the HSM or the TSA not answering, a document pyHanko refuses — is
    postponed, each time twice as long, with its attempts and the reason counted on the row, and the round goes on
    with the others: one bad record never holds the school's queue. After STUCK_AFTER failures it is reported stuck
    (``hocba signing status``, ``hocba_seals_stuck``).
    """
    sealed = 0
    for _ in range(limit):
        with new_uow() as uow:
            record = uow.signing.next_to_seal()
            if record is None:
                break
            plan = uow.signing.plan(record.year_record_id)
            try:
                pdf, package = sealer.seal(record.school_id, plan.seal, record.pdf, record.xml_package)
            except Exception as error:  # noqa: BLE001 - postponed and counted; the next record goes on
                reason = (
                    error.detail_vi
                    if isinstance(error, SealUnavailable)
                    else f"{type(error).__name__}: {error}"
                )
                attempts = uow.signing.postpone_seal(record.year_record_id, reason)
                uow.commit()
                log.warning(
                    "seal.postponed",
                    year_record_id=record.year_record_id,
                    attempts=attempts,
                    error=type(error).__name__,
                    stuck=attempts >= STUCK_AFTER,
                    exc_info=not isinstance(error, SealUnavailable),
                )
                continue
            now = datetime.now(UTC)
            pdf_id = uow.documents.put(pdf, "application/pdf")
            xml_id = uow.documents.put(package, "application/xml")
            record_xml_id = uow.documents.put(xml_doc.record_of(xml_doc.parse(package)), "application/xml")
            uow.signing.update_record(
                record.year_record_id,
                pdf=pdf,
                xml_package=package,
                status="sealed",
                next_order=len(plan.steps) + 1,
                pdf_sha256=pdf_id,
                xml_sha256=xml_id,
                sealed_at=now,
            )
            uow.signing.mark_signed(
                record.year_record_id,
                plan.seal.order,
                hashlib.sha256(record.school_id.encode()).hexdigest(),
                now,
            )
            uow.emit(
                TranscriptSealedV1(
                    school_id=record.school_id,
                    class_id=record.class_id,
                    student_id=record.student_id,
                    transcript_id=record.transcript_id,
                    year_record_id=record.year_record_id,
                    school_year=record.school_year,
                    grade=record.grade,
                    version=record.version,
                    supersedes=record.supersedes,
                    lookup_code=record.lookup_code,
                    pdf_document_id=pdf_id,
                    pdf_sha256=pdf_id,
                    record_xml_sha256=record_xml_id,
                    xml_document_id=xml_id,
                    xml_sha256=xml_id,
                    signatures=len(plan.steps),
                    sealed_at=now,
                    reporting_path=cast(ReportingPath, record.reporting_path),
                ),
                subject=record.year_record_id,
            )
            uow.audit(
                AuditAction.RECORD_SEAL,
                entity=record.year_record_id,
                actor=f"seal:{record.school_id}",
                role="system",
                school_id=record.school_id,
                before_hash=hashlib.sha256(record.pdf).hexdigest(),
                after_hash=pdf_id,
                changes={"xml_sha256": xml_id, "signatures": str(len(plan.steps))},
                occurred_at=now,
                subject=record.year_record_id,
            )
            uow.commit()
            sealed += 1
    with new_uow() as uow:
        SEALS_STUCK.set(uow.signing.stuck_seal_count(after=STUCK_AFTER))
    return sealed
