"""A year record arrives for signing: fields added, the XML package started, an older version stopped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog
from lxml import etree

from contracts.audit import AuditAction
from contracts.envelope import Envelope
from contracts.transcript import TranscriptAssembledV1
from services.signing.app.unit_of_work import SigningUnitOfWork
from services.signing.documents import pdf as pdf_doc
from services.signing.documents import qr_stamp
from services.signing.documents import xml as xml_doc
from services.signing.domain.errors import PlanMismatch
from services.signing.domain.model import Plan, Step

CONSUMER_ASSEMBLED = "signing.register"
TRANSCRIPT_NS = "{urn:hocba:transcript:1}"
UowFactory = Callable[[], SigningUnitOfWork]
log = structlog.get_logger(__name__)


class DocumentSource(Protocol):
    def get(self, sha256: str) -> bytes: ...


class QrSummarySealer(Protocol):
    def summary_text(self, school_id: str, record_xml: bytes) -> str | None: ...


def plan_from_xml(root: etree._Element) -> Plan:
    steps = []
    for node in root.iterfind(f"{TRANSCRIPT_NS}SignaturePlan/{TRANSCRIPT_NS}Step"):
        steps.append(
            Step(
                int(node.get("order", "0")),
                node.get("role"),  # type: ignore[arg-type]
                node.get("field", ""),
                node.findtext(f"{TRANSCRIPT_NS}SignerId", ""),
                node.findtext(f"{TRANSCRIPT_NS}SignerName", ""),
                tuple(c.text or "" for c in node.iterfind(f"{TRANSCRIPT_NS}Covers")),
                node.findtext(f"{TRANSCRIPT_NS}OnBehalfOf"),
            )
        )
    return Plan(tuple(steps))


def register_record(
    envelope: Envelope[TranscriptAssembledV1],
    uow: SigningUnitOfWork,
    source: DocumentSource,
    qr: QrSummarySealer | None = None,
) -> None:
    """The record's primary key stops a second registration, as the inbox claim does a redelivered event.

    Runs inside the runtime's transaction (`services.runtime.consume`), so the documents are fetched and prepared
    after the claim, with the transaction open: a redelivery no longer downloads and rebuilds them only to find
    the record registered, and a concurrent duplicate waits on the claim instead of preparing the same documents.

    The sealed QR summary goes on the pages here, before the fields and the first signature: after that the pages'
    content is locked (qr_stamp's docstring), and the record XML it summarises is already final.
    """
    event = envelope.data
    record_xml = source.get(event.xml_sha256)
    unsigned_pdf = source.get(event.pdf_sha256)
    root = etree.fromstring(record_xml)
    plan = plan_from_xml(root)
    planned = [(s.order, s.role, s.field_name, s.signer_id) for s in plan.steps]
    announced = [(s.order, s.role, s.field_name, s.signer_id) for s in event.signature_plan]
    if planned != announced:
        raise PlanMismatch(
            "Kế hoạch ký của học bạ không khớp với thông báo của dịch vụ học bạ.",
            log=f"the record's XML plan differs from the event's for {event.year_record_id}",
        )
    qr_text = qr.summary_text(event.school_id, record_xml) if qr is not None else None
    if qr_text is not None:
        unsigned_pdf = qr_stamp.stamp(unsigned_pdf, qr_text)
    elif qr is not None:
        log.warning("qr.no_key", school_id=event.school_id, year_record_id=event.year_record_id)
    # Every field with its lock before anyone signs: a field added later breaks the certification signature.
    prepared_pdf = pdf_doc.add_signature_fields(unsigned_pdf, plan)
    package = xml_doc.wrap(record_xml)
    # Versions of one year record may arrive in any order (relay replicas publish what each holds): the one
    # registered last checks against the others, one version at a time.
    uow.signing.lock_year_of(event.transcript_id, event.school_year)
    added = uow.signing.add_record(
        {
            "year_record_id": event.year_record_id,
            "school_id": event.school_id,
            "class_id": event.class_id,
            "student_id": event.student_id,
            "transcript_id": event.transcript_id,
            "school_year": event.school_year,
            "grade": int(root.findtext(f"{TRANSCRIPT_NS}Class/{TRANSCRIPT_NS}Grade", "0")),
            "version": event.version,
            "supersedes": event.supersedes,
            "lookup_code": root.findtext(f"{TRANSCRIPT_NS}Identity/{TRANSCRIPT_NS}LookupCode", ""),
            "status": "collecting",
            "next_order": 1,
            "pdf": prepared_pdf,
            "xml_package": package,
            "record_xml_sha256": event.xml_sha256,
            "reporting_path": event.reporting_path,
        },
        plan,
    )
    if not added:
        return
    if event.supersedes:
        _cancel(envelope, uow, event.supersedes, superseded_by=event.year_record_id)
    # Delivered after a newer version of the same year record: registered, and stopped at once.
    newer = uow.signing.newer_version(event.transcript_id, event.school_year, event.version)
    if newer is not None:
        _cancel(envelope, uow, event.year_record_id, superseded_by=newer)


def _cancel(
    envelope: Envelope[TranscriptAssembledV1],
    uow: SigningUnitOfWork,
    year_record_id: str,
    *,
    superseded_by: str,
) -> None:
    if uow.signing.cancel(year_record_id):
        uow.audit(
            AuditAction.SIGNING_CANCEL,
            entity=year_record_id,
            actor="signing",
            role="system",
            school_id=envelope.data.school_id,
            changes={"superseded_by": superseded_by},
            reason="Phiên bản mới sau điều chỉnh",
            occurred_at=envelope.time,
            subject=year_record_id,
        )
