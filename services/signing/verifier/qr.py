"""The province's trust list of the schools' QR certificates, and the offline check of a QR summary against it.

The list is JSON (what a phone's page parses without a library): ``payload`` the base64 of the canonical JSON of
the entries (each with its certificate and, for WebCrypto, its public key as SPKI), ``signature`` ES256 raw r‖s over those bytes (WebCrypto's format), ``certificate`` and ``chain`` the
province's signing certificate (extended key usage TRUST_LIST_OID) up to a configured root. An entry is a school's
QR certificate with its ``kid``; a revoked school stays on the list with ``revoked_at`` and the reason, so a reader
is told "revoked", not "unknown".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from services.signing.documents.qr_seal import (
    QR_SEAL_OID,
    TRUST_LIST_OID,
    QrPayloadError,
    Sealed,
    Summary,
    kid_of,
    unseal,
)

FORMAT = "hocba-qr-trust-list/1"


class TrustListInvalid(Exception):
    """The trust list's signature, signer or structure does not hold: nothing on it can be trusted."""


@dataclass(frozen=True)
class Entry:
    kid: bytes
    school_id: str
    school_name: str
    certificate: bytes  # DER
    revoked_at: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, str | None]:
        # The public key beside the certificate: the offline page hands it to WebCrypto as it is (SPKI), without
        # parsing X.509 in JavaScript; both are under the province's signature.
        public_key = x509.load_der_x509_certificate(self.certificate).public_key()
        spki = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "kid": base64.b64encode(self.kid).decode(),
            "school_id": self.school_id,
            "school_name": self.school_name,
            "certificate": base64.b64encode(self.certificate).decode(),
            "public_key": base64.b64encode(spki).decode(),
            "revoked_at": self.revoked_at,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TrustList:
    issued: str
    next_update: str
    issuer: str
    entries: tuple[Entry, ...]
    signer_key: bytes = b""  # SPKI of the province key that signed it (what the offline page pins)

    def find(self, kid: bytes) -> Entry | None:
        return next((e for e in self.entries if e.kid == kid), None)


def entry_for(certificate: asn1_x509.Certificate, school_id: str | None = None) -> Entry:
    """A school's entry from its QR certificate; the school id is the certificate's subject serialNumber."""
    subject = certificate.subject.native
    return Entry(
        kid=kid_of(certificate.dump()),
        school_id=school_id or subject.get("serial_number", ""),
        school_name=subject.get("common_name", ""),
        certificate=certificate.dump(),
    )


def _raw(der_signature: bytes) -> bytes:
    r, s = utils.decode_dss_signature(der_signature)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def build(
    entries: Iterable[Entry],
    signer: ec.EllipticCurvePrivateKey,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate] = (),
    *,
    issuer: str,
    issued: datetime | None = None,
    valid_days: int = 7,
) -> bytes:
    when = issued or datetime.now(UTC)
    body = {
        "format": FORMAT,
        "issuer": issuer,
        "issued": when.isoformat(timespec="seconds"),
        "next_update": datetime.fromtimestamp(when.timestamp() + valid_days * 86400, UTC).isoformat(
            timespec="seconds"
        ),
        "entries": [e.to_json() for e in sorted(entries, key=lambda e: e.school_id)],
    }
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    signature = _raw(signer.sign(payload, ec.ECDSA(hashes.SHA256())))
    document = {
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(signature).decode(),
        "certificate": base64.b64encode(certificate.dump()).decode(),
        "chain": [base64.b64encode(c.dump()).decode() for c in chain],
    }
    return json.dumps(document, indent=1).encode()


def _has_usage(certificate: x509.Certificate, oid: str) -> bool:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return x509.ObjectIdentifier(oid) in usages


def _chains_to(
    certificate: x509.Certificate, chain: list[x509.Certificate], roots: list[x509.Certificate]
) -> bool:
    """Walk issuer links through ``chain`` to one of ``roots`` (a trust list's chain is one or two certificates)."""
    current = certificate
    for _ in range(len(chain) + 1):
        for root in roots:
            try:
                current.verify_directly_issued_by(root)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return True
        issuer = next((c for c in chain if c.subject == current.issuer), None)
        if issuer is None:
            return False
        try:
            current.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            return False
        current = issuer
    return False


class SignedDocumentInvalid(Exception):
    """A province-signed document (trust list, family extract) whose signature, signer or dates do not hold."""


def signed_payload(
    data: bytes, roots: Sequence[asn1_x509.Certificate], usage: str, what: str, *, now: datetime | None = None
) -> tuple[bytes, ec.EllipticCurvePublicKey]:
    """The payload of a province-signed document ({payload, signature (ES256, raw r‖s), certificate, chain}, all
    base64), once its signer chains to ``roots``, carries the extended key usage ``usage`` and is within its
    validity, and the signature holds; and the signer's key. Raises SignedDocumentInvalid naming ``what``."""
    now = now or datetime.now(UTC)
    try:
        document = json.loads(data)
        payload = base64.b64decode(document["payload"])
        signature = base64.b64decode(document["signature"])
        signer = x509.load_der_x509_certificate(base64.b64decode(document["certificate"]))
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in document.get("chain", [])]
    except (ValueError, KeyError, TypeError) as error:
        raise SignedDocumentInvalid(f"unreadable {what}: {error!r}") from error
    anchors = [x509.load_der_x509_certificate(r.dump()) for r in roots]
    if not _chains_to(signer, chain, anchors):
        raise SignedDocumentInvalid(f"the {what}'s signer does not chain to a trusted root")
    if not _has_usage(signer, usage):
        raise SignedDocumentInvalid(f"the {what}'s signer is not certified to sign it")
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise SignedDocumentInvalid(f"the {what}'s signer certificate is outside its validity")
    public = signer.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or len(signature) != 64:
        raise SignedDocumentInvalid(f"the {what} is not signed with ES256")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public.verify(utils.encode_dss_signature(r, s), payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignedDocumentInvalid(f"the {what}'s signature does not match its content") from None
    return payload, public


def load(data: bytes, roots: Sequence[asn1_x509.Certificate], *, now: datetime | None = None) -> TrustList:
    """The verified list; raises TrustListInvalid when its signature, signer or dates do not hold."""
    try:
        payload, public = signed_payload(data, roots, TRUST_LIST_OID, "trust list", now=now)
    except SignedDocumentInvalid as error:
        raise TrustListInvalid(str(error)) from None
    body = json.loads(payload)
    if body.get("format") != FORMAT:
        raise TrustListInvalid(f"unknown trust list format {body.get('format')!r}")
    entries = tuple(
        Entry(
            kid=base64.b64decode(e["kid"]),
            school_id=e["school_id"],
            school_name=e["school_name"],
            certificate=base64.b64decode(e["certificate"]),
            revoked_at=e.get("revoked_at"),
            reason=e.get("reason"),
        )
        for e in body["entries"]
    )
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return TrustList(body["issued"], body["next_update"], body["issuer"], entries, spki)


def revoke(entry: Entry, when: datetime, reason: str) -> Entry:
    return Entry(entry.kid, entry.school_id, entry.school_name, entry.certificate, when.isoformat(), reason)


@dataclass(frozen=True)
class QrVerdict:
    """``code`` is stable for scripts; ``message_vi`` is what the family or the reader sees."""

    valid: bool
    code: str  # VALID | URL_ONLY | MALFORMED | UNKNOWN_KEY | REVOKED | BAD_SIGNATURE | WRONG_KEY_USAGE | SCHOOL_MISMATCH
    message_vi: str
    summary: Summary | None = None
    entry: Entry | None = None
    sealed: Sealed | None = None
    detail: str | None = None  # technical, English: why a text could not be decoded


def check(text: str, trust: TrustList) -> QrVerdict:
    """The verdict on a QR's text: decoded, its key found on the list, not revoked, the signature over it valid."""
    if text.strip().startswith(("http://", "https://")):
        return QrVerdict(
            False,
            "URL_ONLY",
            "KHÔNG XÁC THỰC ĐƯỢC NGOẠI TUYẾN: mã QR này chỉ chứa đường dẫn tra cứu, không có tóm tắt được nhà trường ký; "
            "hãy tra cứu trực tuyến.",
            detail=text.strip()[:200],
        )
    try:
        sealed = unseal(text)
    except QrPayloadError as error:
        return QrVerdict(
            False,
            "MALFORMED",
            "KHÔNG HỢP LỆ: không đọc được nội dung mã QR — mã bị hỏng, đã bị sửa đổi hoặc không phải mã QR học bạ.",
            detail=str(error),
        )
    summary = sealed.summary
    entry = trust.find(sealed.kid)
    if entry is None:
        return QrVerdict(
            False,
            "UNKNOWN_KEY",
            "KHÔNG HỢP LỆ: mã QR được ký bằng khóa không có trong danh sách tin cậy của Sở Giáo dục và Đào tạo.",
            summary,
            sealed=sealed,
        )
    certificate = x509.load_der_x509_certificate(entry.certificate)
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not _has_usage(certificate, QR_SEAL_OID):
        return QrVerdict(
            False,
            "WRONG_KEY_USAGE",
            "KHÔNG HỢP LỆ: chứng thư của khóa không dùng để ký mã QR.",
            summary,
            entry,
        )
    if not sealed.signature_valid(public):
        return QrVerdict(
            False,
            "BAD_SIGNATURE",
            "KHÔNG HỢP LỆ: chữ ký không khớp với nội dung — mã QR đã bị sửa đổi hoặc không phải do trường phát hành.",
            summary,
            entry,
            sealed,
        )
    if entry.revoked_at is not None:
        return QrVerdict(
            False,
            "REVOKED",
            f"KHÔNG HỢP LỆ: khóa ký mã QR của {entry.school_name} đã bị thu hồi từ {entry.revoked_at[:10]}"
            + (f" ({entry.reason})" if entry.reason else "")
            + ".",
            summary,
            entry,
            sealed,
        )
    if summary.school_id != entry.school_id:
        return QrVerdict(
            False,
            "SCHOOL_MISMATCH",
            f"KHÔNG HỢP LỆ: mã QR ghi trường {summary.school_id} nhưng được ký bằng khóa của {entry.school_name}.",
            summary,
            entry,
            sealed,
        )
    return QrVerdict(
        True,
        "VALID",
        f"HỢP LỆ: tóm tắt học bạ do {entry.school_name} ký, khớp với danh sách tin cậy của Sở.",
        summary,
        entry,
        sealed,
    )
