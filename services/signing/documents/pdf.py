"""PAdES signatures on the transcript PDF: every field up front, persons by deferred signing, the seal via PKCS#11.

The two halves of a person's signature run in different requests (their key is on a USB token or at a remote
signing service): :func:`prepare` returns the 32-byte digest the device signs plus the state to keep, and
:func:`finish` embeds the device's signature with a timestamp (PAdES B-T). The seal signs in one go with
``use_pades_lta`` (validation data plus a document timestamp: B-LTA).
"""

from __future__ import annotations

import functools
import hashlib
import io
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.api import CAdESSignedAttrSpec, SignerAttrSpec
from pyhanko.sign.ades.cades_asn1 import CommitmentTypeIndication
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import ExternalSigner, PdfCMSSignedAttributes, Signer
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.runtime import pdf_reading
from services.runtime.timestamps import run
from services.signing.documents.stamp_face import StampFont, face_for
from services.signing.domain.errors import SignatureMismatch
from services.signing.domain.model import ROLE_TITLES, Plan, Step

T = TypeVar("T")
DIGEST = "sha256"
# Generous: a B-T CMS with a 2048-bit chain and a timestamp token stays well under this; an estimate that comes
# out short breaks the file ("ByteRange payload larger than expected", pyHanko #515).
BYTES_RESERVED = 16384
SEAL_BYTES_RESERVED = 32768
LOCATION = "Việt Nam"
LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
SEAL_RED = (0.75, 0.05, 0.1)

pdf_reading.install()  # every signature reads earlier ones' /Contents: in one pass, not byte by byte


def add_signature_fields(pdf: bytes, plan: Plan) -> bytes:
    """One field per step, each with its lock, before anyone signs (adding one later breaks certification).

    A field the form already drew (with its box, so the signature shows there) only gets its lock; any other step
    gets an invisible field.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    drawn = {name: ref for name, _value, ref in fields.enumerate_sig_fields(writer, filled_status=None)}
    for step in plan.steps:
        locks = plan.field_locks(step)
        if locks is None:
            spec = fields.SigFieldSpec(
                step.field_name,
                field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.ALL),
                doc_mdp_update_value=fields.MDPPerm.NO_CHANGES,
            )
        else:
            spec = fields.SigFieldSpec(
                step.field_name,
                field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, list(locks)),
            )
        if step.field_name in drawn:
            field = drawn[step.field_name].get_object()
            fields.apply_sig_field_spec_properties(writer, sig_field=field, sig_field_spec=spec)
            writer.update_container(field)
        else:
            fields.append_signature_field(writer, spec)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _attributes(step: Step) -> CAdESSignedAttrSpec:
    role = cms.AttCertAttribute(
        {
            "type": "role",
            "values": [
                {"role_name": {"uniform_resource_identifier": step.claimed_role}},
            ],
        }
    )
    return CAdESSignedAttrSpec(
        commitment_type=CommitmentTypeIndication({"commitment_type_id": "proof_of_approval"}),
        signer_attributes=SignerAttrSpec(claimed_attrs=[role], certified_attrs=[]),
    )


def _metadata(step: Step, *, certify: bool, seal: bool = False, vc: ValidationContext | None = None):  # type: ignore[no-untyped-def]
    reason = f"{step.signer_name} ký với vai trò {step.role}"
    if step.on_behalf_of:
        reason += f", ký thay {step.on_behalf_of}"
    return signers.PdfSignatureMetadata(
        field_name=step.field_name,
        md_algorithm=DIGEST,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=LOCATION,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        cades_signed_attr_spec=_attributes(step),
        embed_validation_info=seal,
        use_pades_lta=seal,
        validation_context=vc,
    )


def _stamp(
    step: Step, certificate: asn1_x509.Certificate, when: datetime, *, seal: bool
) -> tuple[TextStampStyle, dict[str, str]]:
    """The stamp's style and the values it prints (in NFC: one glyph per letter and tone), in a face that has every
    letter of them."""
    text = {k: unicodedata.normalize("NFC", v) for k, v in _stamp_text(step, certificate, when).items()}
    return _stamp_style(seal=seal, face=face_for("".join(text.values()))), text


@functools.cache
def _stamp_style(*, seal: bool, face: Path) -> TextStampStyle:
    """How a signature shows in its box: a person's name, role and time; the seal as a red bordered stamp.

    No background: pyHanko draws one through a transparency graphics state, and the stamp must stay plain PDF/A.
    """
    font = StampFont(str(face))
    # pyHanko's default text margin (10 pt) would shrink three lines to unreadable in a box a few lines high.
    tight = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MIN,
        y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins.uniform(1),
    )
    if seal:
        return TextStampStyle(
            stamp_text="ĐÓNG DẤU: %(school)s\nNgày đóng dấu: %(when)s",
            text_box_style=TextBoxStyle(
                font=font, font_size=7, leading=9, text_color=SEAL_RED, box_layout_rule=tight
            ),
            inner_content_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MID,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins.uniform(3),
            ),
            border_width=2,
            border_color=SEAL_RED,
        )
    return TextStampStyle(
        stamp_text="Ký bởi: %(name)s\n%(role)s\nNgày ký: %(when)s",
        # pyHanko annotates font_size as int but renders any size; 7.5 pt fits three lines in the box
        text_box_style=TextBoxStyle(font=font, font_size=7.5, leading=9, box_layout_rule=tight),  # type: ignore[arg-type]
        inner_content_layout=tight,
        border_width=0,
    )


def _stamp_text(step: Step, certificate: asn1_x509.Certificate, when: datetime) -> dict[str, str]:
    """The values the stamp prints; the time as a Vietnamese reader expects it (dd/mm/yyyy HH:mm, local time)."""
    name = step.signer_name or str(certificate.subject.native.get("common_name", ""))
    role = ROLE_TITLES.get(step.role, step.role)
    if step.on_behalf_of:
        role += f", ký thay {step.on_behalf_of}"
    local = when.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")
    return {"name": name, "role": role, "school": name, "when": local}


def _registry(chain: tuple[asn1_x509.Certificate, ...]) -> SimpleCertificateStore:
    store: SimpleCertificateStore = SimpleCertificateStore.from_certs(list(chain))
    return store


@dataclass(frozen=True)
class PreparedPdf:
    """What must survive between the two halves (stored in the signing DB), and the digest the device signs."""

    pdf: bytes
    document_digest: bytes
    region: tuple[int, int]
    signed_attributes: bytes

    @property
    def to_sign(self) -> bytes:
        """sha256 of the DER signed attributes: the device signs this pre-hashed value."""
        return hashlib.sha256(self.signed_attributes).digest()


def prepare(
    pdf: bytes,
    step: Step,
    certificate: asn1_x509.Certificate,
    chain: tuple[asn1_x509.Certificate, ...],
    *,
    certify: bool,
) -> PreparedPdf:
    return run(_prepare(pdf, step, certificate, chain, certify=certify))


async def _prepare(
    pdf: bytes,
    step: Step,
    certificate: asn1_x509.Certificate,
    chain: tuple[asn1_x509.Certificate, ...],
    *,
    certify: bool,
) -> PreparedPdf:
    external = ExternalSigner(certificate, _registry(chain), signature_value=256)
    now = datetime.now(UTC)
    style, text = _stamp(step, certificate, now, seal=False)
    pdf_signer = signers.PdfSigner(_metadata(step, certify=certify), signer=external, stamp_style=style)
    # The stamp is written in this revision, before the digest: the signature covers what the box shows.
    digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), bytes_reserved=BYTES_RESERVED, appearance_text_params=text
    )
    attributes = await external.signed_attrs(
        digest.document_digest,
        DIGEST,
        attr_settings=PdfCMSSignedAttributes(signing_time=now, cades_signed_attrs=_attributes(step)),
        use_pades=True,
    )
    output.seek(0)
    return PreparedPdf(
        pdf=output.read(),
        document_digest=digest.document_digest,
        region=(digest.reserved_region_start, digest.reserved_region_end),
        signed_attributes=attributes.dump(),
    )


def check_signature_value(certificate: asn1_x509.Certificate, to_sign: bytes, signature: bytes) -> None:
    """Refuse before embedding: a wrong value would produce a PDF with an invalid signature in it."""
    key = x509.load_der_x509_certificate(certificate.dump()).public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, to_sign, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, to_sign, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        else:
            raise SignatureMismatch("Loại khóa của chứng thư số không được hỗ trợ (chỉ RSA hoặc ECDSA).")
    except InvalidSignature as exc:
        raise SignatureMismatch(
            "Chữ ký gửi về không khớp với chứng thư số và dữ liệu cần ký; tài liệu chưa bị thay đổi."
        ) from exc


def finish(
    prepared: PreparedPdf,
    signature: bytes,
    certificate: asn1_x509.Certificate,
    chain: tuple[asn1_x509.Certificate, ...],
    timestamper: TimeStamper,
) -> bytes:
    check_signature_value(certificate, prepared.to_sign, signature)
    return run(_finish(prepared, signature, certificate, chain, timestamper))


async def _finish(
    prepared: PreparedPdf,
    signature: bytes,
    certificate: asn1_x509.Certificate,
    chain: tuple[asn1_x509.Certificate, ...],
    timestamper: TimeStamper,
) -> bytes:
    external = ExternalSigner(certificate, _registry(chain), signature_value=signature)
    signed_cms = await external.async_sign_prescribed_attributes(
        DIGEST, signed_attrs=cms.CMSAttributes.load(prepared.signed_attributes), timestamper=timestamper
    )
    output = io.BytesIO(prepared.pdf)
    await PdfTBSDocument.async_finish_signing(
        output, PreparedByteRangeDigest(prepared.document_digest, *prepared.region), signed_cms
    )
    return output.getvalue()


def sign_directly(
    pdf: bytes, step: Step, signer: Signer, timestamper: TimeStamper | None, *, certify: bool
) -> bytes:
    """One-shot signature with a key we hold: the bench's baseline and the tests' out-of-turn signers."""
    style, text = _stamp(step, signer.signing_cert, datetime.now(UTC), seal=False)
    out = signers.PdfSigner(
        _metadata(step, certify=certify), signer=signer, timestamper=timestamper, stamp_style=style
    ).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        existing_fields_only=True,
        bytes_reserved=BYTES_RESERVED,
        appearance_text_params=text,
    )
    return bytes(out.getvalue())


def seal(pdf: bytes, step: Step, signer: Signer, timestamper: TimeStamper, vc: ValidationContext) -> bytes:
    """The school's seal: locks everything, embeds validation data, adds the first document timestamp (B-LTA)."""

    async def _seal() -> bytes:
        style, text = _stamp(step, signer.signing_cert, datetime.now(UTC), seal=True)
        pdf_signer = signers.PdfSigner(
            _metadata(step, certify=False, seal=True, vc=vc),
            signer=signer,
            timestamper=timestamper,
            stamp_style=style,
        )
        out = await pdf_signer.async_sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            existing_fields_only=True,
            bytes_reserved=SEAL_BYTES_RESERVED,
            appearance_text_params=text,
        )
        return bytes(out.getvalue())

    return run(_seal())
