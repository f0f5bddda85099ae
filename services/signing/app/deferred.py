"""People sign in two requests: prepare a batch (the data to be signed per document), then finish it.

Between the two, the half-done signatures live in ``pending_signatures``, so a restart loses nothing. Each record
is its own transaction: one refused record never holds back the rest of a class.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from contracts.audit import AuditAction
from services.signing.app.certificates import CertificateCheck, holder_of
from services.signing.app.handlers import UowFactory
from services.signing.app.unit_of_work import SigningUnitOfWork
from services.signing.documents import pdf as pdf_doc
from services.signing.documents import xml as xml_doc
from services.signing.domain.errors import (
    CertificateRefused,
    NoPendingSignature,
    SigningError,
    TimestampUnavailable,
)
from services.signing.domain.model import ROLE_TITLES, PendingSignature, SigningRecord
from services.signing.domain.workflow import check_certificate_holder, check_turn, required_role


@dataclass(frozen=True)
class Caller:
    """The person signing, from their token: each step needs the role it names, at the record's school."""

    user_id: str
    school_id: str | None
    roles: frozenset[str]

    def may_take(self, step_role: str, on_behalf_of: str | None) -> bool:
        return required_role(step_role, on_behalf_of) in self.roles


def _refusal(year_record_id: str, order: int | None, error: SigningError) -> dict[str, Any]:
    return {"year_record_id": year_record_id, "order": order, "error": error.slug, "detail": error.detail_vi}


def _signer_certificate(
    uow: SigningUnitOfWork,
    caller: Caller,
    certificate: bytes | None,
    chain: list[bytes],
    check: CertificateCheck,
) -> tuple[asn1_x509.Certificate, tuple[asn1_x509.Certificate, ...]]:
    """The certificate sent with the batch (checked, then registered for next time), else the registered one."""
    if certificate is None:
        registered = uow.signing.certificate_of(caller.user_id)
        if registered is None:
            raise CertificateRefused("Chưa có chứng thư số: hãy gửi chứng thư số cùng lô ký đầu tiên.")
        certificate, chain, _ = registered
    cert, intermediates = check(certificate, chain)
    uow.signing.register_certificate(
        caller.user_id,
        caller.school_id,
        cert.dump(),
        [c.dump() for c in intermediates],
        cert.subject.human_friendly,
        cert["tbs_certificate"]["validity"]["not_after"].native,
    )
    return cert, intermediates


def prepare_batch(
    caller: Caller,
    new_uow: UowFactory,
    check: CertificateCheck,
    *,
    records: list[tuple[str, int]] | None = None,
    class_id: str | None = None,
    certificate: bytes | None = None,
    chain: list[bytes] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    with new_uow() as uow:
        cert, intermediates = _signer_certificate(uow, caller, certificate, list(chain), check)
        if records is None:
            records = [
                (w.year_record_id, w.step_order)
                for w in uow.signing.waiting_for(caller.user_id, caller.school_id, class_id)
                if caller.may_take(w.role, w.on_behalf_of)
            ]
        uow.commit()
    batch_id = uuid.uuid4()
    prepared: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for year_record_id, order in records:
        try:
            prepared.append(
                _prepare_one(caller, new_uow, batch_id, year_record_id, order, cert, intermediates)
            )
        except SigningError as error:
            refused.append(_refusal(year_record_id, order, error))
    return {"batch_id": str(batch_id), "items": prepared, "refused": refused}


def _prepare_one(
    caller: Caller,
    new_uow: UowFactory,
    batch_id: uuid.UUID,
    year_record_id: str,
    order: int,
    cert: asn1_x509.Certificate,
    chain: tuple[asn1_x509.Certificate, ...],
) -> dict[str, Any]:
    with new_uow() as uow:
        record = _record(uow, year_record_id, caller)
        plan = uow.signing.plan(year_record_id)
        if not 1 <= order <= len(plan.person_steps):
            raise NoPendingSignature(f"Học bạ {year_record_id} không có bước ký {order} dành cho cá nhân.")
        step = plan.step(order)
        check_turn(
            status=record.status,
            next_order=record.next_order,
            step=step,
            caller_id=caller.user_id,
            caller_roles=caller.roles,
        )
        check_certificate_holder(step, *holder_of(cert))
        pdf = pdf_doc.prepare(record.pdf, step, cert, chain, certify=order == 1)
        xml = xml_doc.prepare(record.xml_package, step, cert, chain)
        item_id = uuid.uuid4()
        uow.signing.put_pending(
            {
                "id": item_id,
                "batch_id": batch_id,
                "year_record_id": year_record_id,
                "step_order": order,
                "signer_id": caller.user_id,
                "certificate": cert.dump(),
                "prepared_pdf": pdf.pdf,
                "document_digest": pdf.document_digest,
                "region_start": pdf.region[0],
                "region_end": pdf.region[1],
                "signed_attributes": pdf.signed_attributes,
                "xml_package": xml.package,
                "xml_signature_id": xml.signature_id,
                "xml_signed_info": xml.signed_info,
            }
        )
        uow.commit()
    return {
        "item_id": str(item_id),
        "year_record_id": year_record_id,
        "order": order,
        "field": step.field_name,
        "role": step.role,
        "pdf_to_sign": base64.b64encode(pdf.to_sign).decode(),
        "xml_to_sign": base64.b64encode(xml.to_sign).decode(),
        "digest_algorithm": "sha256",
    }


def _record(uow: SigningUnitOfWork, year_record_id: str, caller: Caller) -> SigningRecord:
    record = uow.signing.record(year_record_id, lock=True)
    # Another school's record reads as unknown: person ids are per school, and tenancy is the school.
    if record is None or record.school_id != caller.school_id:
        raise NoPendingSignature(f"Không tìm thấy học bạ {year_record_id} trong danh sách chờ ký.")
    return record


def finish_batch(
    caller: Caller,
    batch_id: uuid.UUID,
    signatures: dict[str, tuple[bytes, bytes]],
    new_uow: UowFactory,
    timestamper: TimeStamper,
) -> dict[str, Any]:
    """``signatures`` maps item id → (PDF signature value, XML signature value)."""
    with new_uow() as uow:
        items = {str(p.id): p for p in uow.signing.pending_of_batch(batch_id)}
    signed: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for item_id, (pdf_value, xml_value) in signatures.items():
        item = items.get(item_id)
        if item is None or item.signer_id != caller.user_id:
            refused.append(
                _refusal(
                    "",
                    None,
                    NoPendingSignature(f"Không có chữ ký đang chờ hoàn tất với mã {item_id} trong lô này."),
                )
            )
            continue
        try:
            signed.append(_finish_one(caller, item, pdf_value, xml_value, new_uow, timestamper))
        except SigningError as error:
            refused.append(_refusal(item.year_record_id, item.step_order, error))
    if not signed and refused and all(r["error"] == TimestampUnavailable.slug for r in refused):
        # Nothing could be finished: a 503 tells the signing client to send the same values again later.
        raise TimestampUnavailable(refused[0]["detail"])
    return {"batch_id": str(batch_id), "signed": signed, "refused": refused}


def _finish_one(
    caller: Caller,
    item: PendingSignature,
    pdf_value: bytes,
    xml_value: bytes,
    new_uow: UowFactory,
    tsa: TimeStamper,
) -> dict[str, Any]:
    year_record_id, order = item.year_record_id, item.step_order
    with new_uow() as uow:
        record = _record(uow, year_record_id, caller)
        plan = uow.signing.plan(year_record_id)
        step = plan.step(order)
        check_turn(
            status=record.status,
            next_order=record.next_order,
            step=step,
            caller_id=caller.user_id,
            caller_roles=caller.roles,
        )
        if not item.prepared_pdf.startswith(record.pdf):
            raise NoPendingSignature("Học bạ đã thay đổi kể từ khi chuẩn bị ký; hãy chuẩn bị lại.")
        cert = asn1_x509.Certificate.load(item.certificate)
        registered = uow.signing.certificate_of(caller.user_id)
        chain = tuple(asn1_x509.Certificate.load(c) for c in (registered[1] if registered else []))
        prepared_pdf = pdf_doc.PreparedPdf(
            item.prepared_pdf,
            item.document_digest,
            (item.region_start, item.region_end),
            item.signed_attributes,
        )
        prepared_xml = xml_doc.PreparedXml(item.xml_package, item.xml_signature_id, item.xml_signed_info)
        # Check both values before touching either document: a wrong one leaves the record as it was.
        pdf_doc.check_signature_value(cert, prepared_pdf.to_sign, pdf_value)
        pdf_doc.check_signature_value(cert, prepared_xml.to_sign, xml_value)
        try:
            new_pdf = pdf_doc.finish(prepared_pdf, pdf_value, cert, chain, tsa)
        except TimestampRequestError as error:
            raise TimestampUnavailable(
                "Máy chủ cấp dấu thời gian chưa phản hồi; chữ ký vẫn được giữ, vui lòng gửi lại sau ít phút."
            ) from error
        new_xml = xml_doc.finish(prepared_xml, xml_value, cert)
        now = datetime.now(UTC)
        next_order = order + 1
        uow.signing.update_record(
            year_record_id,
            pdf=new_pdf,
            xml_package=new_xml,
            next_order=next_order,
            status="sealing" if plan.step(next_order).is_seal else "collecting",
        )
        uow.signing.mark_signed(year_record_id, order, hashlib.sha256(cert.dump()).hexdigest(), now)
        uow.signing.drop_pending(item.id)
        uow.audit(
            AuditAction.SIGNATURE_APPLY,
            entity=year_record_id,
            actor=caller.user_id,
            role=step.role,
            school_id=record.school_id,
            before_hash=hashlib.sha256(record.pdf).hexdigest(),
            after_hash=hashlib.sha256(new_pdf).hexdigest(),
            changes={
                "step": f"{order}/{len(plan.steps)} {step.field_name}",
                "role": ROLE_TITLES[step.role],
                **({"on_behalf_of": step.on_behalf_of} if step.on_behalf_of else {}),
            },
            occurred_at=now,
            subject=year_record_id,
        )
        uow.commit()
    return {
        "year_record_id": year_record_id,
        "order": order,
        "field": step.field_name,
        "signed_at": now.isoformat(),
    }
