"""A year record's announcement fed straight to signing: registered for signing from the documents it names, once.

No transcript service: its unsigned documents come from FakeDocuments, keyed by their sha256.
"""

from __future__ import annotations

import io
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker

from contracts.audit import AuditAction
from contracts.envelope import Envelope
from contracts.transcript import TranscriptAssembledV1
from services.runtime.consume import handle_once
from services.runtime.documents import DocumentUnavailable, FakeDocuments
from services.signing.adapters.sealer import FakeQrSealer
from services.signing.app.handlers import CONSUMER_ASSEMBLED, register_record
from services.signing.app.unit_of_work import SigningUnitOfWork
from services.signing.domain.errors import PlanMismatch
from services.signing.domain.model import SigningRecord
from services.transcript.app.handlers import announced_plan
from tests.integration.signing.records import documents, year_record
from tests.service.support import database, published, units_of_work

pytestmark = pytest.mark.integration  # the signing database only

RECORD = year_record()
XML, PDF, PLAN = documents(RECORD)


engine = database("signing")


def assembled(source: FakeDocuments, **changes: object) -> Envelope[TranscriptAssembledV1]:
    """Transcript's announcement of a new year record whose documents ``source`` holds: of a transcript of its own
    unless ``changes`` name one (the versions of one year record name their first's)."""
    event = TranscriptAssembledV1(
        **{
            "school_id": RECORD.school_id,
            "class_id": "c1",
            "student_id": RECORD.student_id,
            "transcript_id": f"tr-{uuid.uuid4().hex[:12]}",
            "year_record_id": f"yr-{uuid.uuid4().hex[:12]}",
            "school_year": RECORD.school_year,
            "version": 1,
            "xml_sha256": source.put(XML),
            "pdf_sha256": source.put(PDF),
            "signature_plan": announced_plan(RECORD),
            **changes,
        }
    )
    return Envelope.wrap(event, source_service="transcript")


def register(delivery, engine, opened, source: FakeDocuments, qr: FakeQrSealer | None = None) -> bool:
    """What `SigningService.on_assembled` does with a delivery, minus the broker."""
    return handle_once(
        delivery,
        CONSUMER_ASSEMBLED,
        units_of_work(SigningUnitOfWork, engine, opened),
        lambda env, uow: register_record(env, uow, source, qr),
    )


def stored(engine, year_record_id: str) -> SigningRecord | None:
    with SigningUnitOfWork(sessionmaker(engine)) as uow:
        return uow.signing.record(year_record_id)


def plan_of(engine, year_record_id: str):
    with SigningUnitOfWork(sessionmaker(engine)) as uow:
        return uow.signing.plan(year_record_id)


def test_an_assembled_record_is_registered_with_its_plan_and_every_signature_field(engine):
    source, opened = FakeDocuments(), []
    delivery = assembled(source)

    assert register(delivery, engine, opened, source)

    record, plan = stored(engine, delivery.data.year_record_id), plan_of(engine, delivery.data.year_record_id)
    assert record is not None
    assert (record.status, record.next_order, record.record_xml_sha256) == (
        "collecting",
        1,
        delivery.data.xml_sha256,
    )
    assert record.lookup_code == RECORD.lookup_code  # read from the record's XML
    assert [(s.order, s.role, s.signer_id) for s in plan.steps] == [
        (s.order, s.role, s.signer_id) for s in PLAN.steps
    ]
    fields = PdfReader(io.BytesIO(record.pdf)).get_fields() or {}
    assert sorted(s.field_name for s in PLAN.steps) == sorted(
        name for name, f in fields.items() if f.get("/FT") == "/Sig"
    )
    assert source.asked == [delivery.data.xml_sha256, delivery.data.pdf_sha256]


def test_the_sealed_qr_summary_is_drawn_on_every_page_before_the_signature_fields(engine):
    # the kid comes from the certificate's bytes; this test checks the drawing, not the trust (no CA needed)
    qr = FakeQrSealer(ec.generate_private_key(ec.SECP256R1()), b"certificate")
    source, opened = FakeDocuments(), []
    delivery = assembled(source)

    assert register(delivery, engine, opened, source, qr)

    record = stored(engine, delivery.data.year_record_id)
    assert record is not None
    reader = PdfReader(io.BytesIO(record.pdf))
    for page in reader.pages:
        assert "/HbSealedQr" in page["/Resources"]["/XObject"]
    # the QR went in before the fields: the revision that adds them comes after the one that draws the QR
    assert record.pdf.count(b"/HbSealedQr") >= 1 and record.pdf.rindex(b"/HbSealedQr") < record.pdf.rindex(
        b"/FT /Sig"
    )


def test_a_redelivery_registers_nothing_and_fetches_no_document(engine):
    source, opened = FakeDocuments(), []
    delivery = assembled(source)
    assert register(delivery, engine, opened, source)
    asked = list(source.asked)

    assert not register(delivery, engine, opened, source)

    assert source.asked == asked


def test_a_new_version_stops_the_signatures_on_the_one_it_supersedes(engine):
    source, opened = FakeDocuments(), []
    first = assembled(source)
    second = assembled(
        source, version=2, supersedes=first.data.year_record_id, transcript_id=first.data.transcript_id
    )

    assert register(first, engine, opened, source)
    assert register(second, engine, opened, source)

    cancelled, collecting = (
        stored(engine, first.data.year_record_id),
        stored(engine, second.data.year_record_id),
    )
    assert cancelled is not None and cancelled.status == "cancelled"
    assert collecting is not None and collecting.status == "collecting"
    cancels = [e.data for e in published(opened) if e.data.action == AuditAction.SIGNING_CANCEL]
    assert [(c.entity_id, c.changes) for c in cancels] == [
        (first.data.year_record_id, {"superseded_by": second.data.year_record_id})
    ]


def test_a_document_the_source_lacks_registers_nothing_and_the_event_can_be_handled_again(engine):
    full, opened = FakeDocuments(), []
    delivery = assembled(full)
    lacking = FakeDocuments(XML)  # the PDF is not there (yet)

    with pytest.raises(DocumentUnavailable):
        register(delivery, engine, opened, lacking)
    assert stored(engine, delivery.data.year_record_id) is None

    assert register(delivery, engine, opened, full)  # replayed from the DLQ once the document is there
    assert stored(engine, delivery.data.year_record_id) is not None


def test_a_plan_that_differs_from_the_records_xml_is_refused(engine):
    source, opened = FakeDocuments(), []
    delivery = assembled(source)
    delivery.data.signature_plan.pop()

    with pytest.raises(PlanMismatch, match="plan differs"):
        register(delivery, engine, opened, source)
    assert stored(engine, delivery.data.year_record_id) is None


def test_a_version_delivered_after_the_one_that_supersedes_it_is_registered_cancelled(engine):
    # Two relay replicas publish one aggregate's events out of order (each takes the rows the other has not
    # locked): version 2 reaches signing first, then the version it replaces. Nobody may sign the old one.
    source, opened = FakeDocuments(), []
    first = assembled(source)
    second = assembled(
        source, version=2, supersedes=first.data.year_record_id, transcript_id=first.data.transcript_id
    )

    assert register(second, engine, opened, source)
    assert register(first, engine, opened, source)

    late, newest = stored(engine, first.data.year_record_id), stored(engine, second.data.year_record_id)
    assert late is not None and late.status == "cancelled"
    assert newest is not None and newest.status == "collecting"
    cancels = [e.data for e in published(opened) if e.data.action == AuditAction.SIGNING_CANCEL]
    assert [(c.entity_id, c.changes) for c in cancels] == [
        (first.data.year_record_id, {"superseded_by": second.data.year_record_id})
    ]


def test_a_version_delivered_after_a_later_one_than_its_successor_is_registered_cancelled(engine):
    # Versions 3, 1, 2 in that order: the one that says it replaces version 1 has not arrived when version 1 does;
    # the version numbers of the same year record still say which one is current.
    source, opened = FakeDocuments(), []
    first = assembled(source)
    same = {"transcript_id": first.data.transcript_id}
    second = assembled(source, version=2, supersedes=first.data.year_record_id, **same)
    third = assembled(source, version=3, supersedes=second.data.year_record_id, **same)

    for delivery in (third, first, second):
        assert register(delivery, engine, opened, source)

    statuses = [
        getattr(stored(engine, d.data.year_record_id), "status", None) for d in (first, second, third)
    ]
    assert statuses == ["cancelled", "cancelled", "collecting"]
