"""The sealed summary a printed page's QR carries: CBOR claims in a COSE_Sign1 (ES256), zlib, base45, prefix ``HB1:``.

The form is the EU Digital COVID Certificate's (CWT claims in COSE_Sign1, RFC 9052/8392, zlib, RFC 9285
base45 in an alphanumeric QR) rather than ICAO's VDS-NC (JSON and a base64url signature in the barcode): the same
summary takes about 465 characters in base45's alphanumeric mode, a version-11 QR (61 modules) that still prints in
the 17 mm the page gives it, where VDS-NC's JSON is ~520 bytes in byte mode, a version-15 QR (77 modules, each a fifth
smaller in the same square) before the signer certificate VDS-NC also puts in the barcode; the signature is ECDSA
P-256 over a standard structure that WebCrypto verifies as it comes (raw r‖s), and the DCC's open-source verifiers
show the form is read offline by phones at scale.

The summary holds what a reader of the printout needs to trust it — the lookup code, school, year, class, the
student's name, the year results, effective date, version and the sha256 of the record XML — and no personal ID or
birth date: a QR is read by anyone holding the paper, and the personal ID opens services well beyond the record.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from lxml import etree

PREFIX = "HB1:"
NS = "{urn:hocba:transcript:1}"
COSE_SIGN1_TAG = 18
ZLIB_HEADER = (
    b"\x78"  # CMF of a 32 KiB deflate window; a COSE_Sign1 starts with 0xD2 (tag 18) or 0x84 (array)
)
ALG, KID, ES256 = 1, 4, -7  # COSE header labels and the ES256 algorithm id (RFC 9053)
IAT = 6  # CWT issued-at (RFC 8392); no iss claim: the summary's school id says who signed, in fewer bytes
HOCBA_CLAIM = -261  # private CWT claim holding the summary (DCC uses -260 for hcert)
SUMMARY_VERSION = 1
# Extended key usages of the two keys (test OIDs under 2.25, the UUID arc anyone may allocate from without
# registration): a school's QR-sealing key, and the province's trust-list signing key.
QR_SEAL_OID = "2.25.299984883809587363036351105880337191409.1"
TRUST_LIST_OID = "2.25.299984883809587363036351105880337191409.2"
# The province's key that signs a family's extract of their học bạ (services/signing/verifier/extract.py).
EXTRACT_OID = "2.25.299984883809587363036351105880337191409.3"


class QrPayloadError(Exception):
    """The text is not a sealed summary of ours (prefix, base45, zlib, CBOR or COSE structure)."""


@dataclass(frozen=True)
class Summary:
    """What the QR tells a reader: enough to compare with the paper, nothing that identifies the child beyond it."""

    lookup_code: str
    school_id: str
    school_name: str
    school_year: str
    class_name: str
    student_name: str
    learning: str | None  # TT22 learning result (Tốt/Khá/Đạt/Chưa đạt) — None for TT27
    conduct: str | None  # TT22 conduct result
    year_result: str | None  # TT27 result of the year (Hoàn thành xuất sắc …)
    promotion: str | None  # lên lớp / ở lại lớp / hoàn thành chương trình …
    effective_date: str
    version: int
    record_sha256: str

    def to_claim(self) -> dict[str, Any]:
        results = {
            k: v
            for k, v in (
                ("ht", self.learning),
                ("rl", self.conduct),
                ("kq", self.year_result),
                ("lb", self.promotion),
            )
            if v
        }
        return {
            "v": SUMMARY_VERSION,
            "lc": bytes.fromhex(self.lookup_code),
            "sid": self.school_id,
            "sn": self.school_name,
            "sy": self.school_year,
            "cl": self.class_name,
            "n": self.student_name,
            "r": results,
            "ed": self.effective_date,
            "ver": self.version,
            "h": bytes.fromhex(self.record_sha256),
        }

    @classmethod
    def from_claim(cls, claim: Any) -> Summary:
        try:
            results = claim["r"]
            return cls(
                lookup_code=bytes(claim["lc"]).hex(),
                school_id=str(claim["sid"]),
                school_name=str(claim["sn"]),
                school_year=str(claim["sy"]),
                class_name=str(claim["cl"]),
                student_name=str(claim["n"]),
                learning=results.get("ht"),
                conduct=results.get("rl"),
                year_result=results.get("kq"),
                promotion=results.get("lb"),
                effective_date=str(claim["ed"]),
                version=int(claim["ver"]),
                record_sha256=bytes(claim["h"]).hex(),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise QrPayloadError(f"summary claim incomplete: {error!r}") from error


def summary_of(record_xml: bytes) -> Summary:
    """The summary of a year record XML (the record element, exactly the bytes embedded in the PDF)."""
    root = etree.fromstring(record_xml)

    def text(path: str) -> str | None:
        found = root.findtext(path.replace("h:", NS))
        return found.strip() if found and found.strip() else None

    # After re-tests or summer training (TT22 art. 13-14) the results and the promotion decided again are the ones
    # that stand: the summary carries those, as the page prints them last.
    summer = root.find(f"{NS}Results/{NS}Period[@period='summer']") is not None
    year = f"h:Results/h:Period[@period='{'summer' if summer else 'year'}']/"
    return Summary(
        lookup_code=text("h:Identity/h:LookupCode") or "",
        school_id=text("h:School/h:Id") or "",
        school_name=text("h:School/h:Name") or "",
        school_year=text("h:Class/h:SchoolYear") or "",
        class_name=text("h:Class/h:Name") or "",
        student_name=text("h:Student/h:FullName") or "",
        learning=text(year + "h:LearningResult"),
        conduct=text(year + "h:Conduct"),
        year_result=text("h:Results/h:YearResult"),
        promotion=text("h:Results/h:PromotionAfterSummer") or text("h:Results/h:Promotion"),
        effective_date=text("h:Identity/h:EffectiveDate") or "",
        version=int(text("h:Identity/h:Version") or "1"),
        record_sha256=hashlib.sha256(record_xml).hexdigest(),
    )


def kid_of(certificate_der: bytes) -> bytes:
    """The key identifier in the COSE header: the first 8 bytes of the certificate's sha256, as the DCC does."""
    return hashlib.sha256(certificate_der).digest()[:8]


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def seal(
    summary: Summary, kid: bytes, sign: Callable[[bytes], bytes], *, issued: datetime | None = None
) -> str:
    """The QR text. ``sign`` gets the sha256 of the COSE Sig_structure and returns ECDSA P-256 as raw r‖s (64 bytes),
    which is what a PKCS#11 token's CKM_ECDSA returns and what COSE carries."""
    when = issued or datetime.now(UTC)
    protected = cbor2.dumps({ALG: ES256, KID: kid})
    payload = cbor2.dumps({IAT: int(when.timestamp()), HOCBA_CLAIM: summary.to_claim()})
    signature = sign(hashlib.sha256(_sig_structure(protected, payload)).digest())
    if len(signature) != 64:
        raise ValueError(f"ES256 wants a 64-byte r‖s signature, got {len(signature)} bytes")
    cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    # zlib only where it shrinks: a summary is mostly signature, hash and short Vietnamese names, which deflate makes
    # ~3% larger; readers tell the two apart by zlib's first byte (0x78), as DCC verifiers do.
    compressed = zlib.compress(cose, 9)
    encoded: bytes = base45.b45encode(compressed if len(compressed) < len(cose) else cose)
    return PREFIX + encoded.decode("ascii")


@dataclass(frozen=True)
class Sealed:
    """A decoded QR: its summary and what checking its signature needs. Nothing here is trusted yet."""

    kid: bytes
    issued_at: datetime
    summary: Summary
    signature: bytes
    signed_bytes: bytes  # the COSE Sig_structure the signature covers

    def signature_valid(self, public_key: ec.EllipticCurvePublicKey) -> bool:
        if len(self.signature) != 64:
            return False
        r, s = int.from_bytes(self.signature[:32], "big"), int.from_bytes(self.signature[32:], "big")
        try:
            public_key.verify(utils.encode_dss_signature(r, s), self.signed_bytes, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


def unseal(text: str) -> Sealed:
    """Decode the QR text (no signature check: that needs the trust list)."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise QrPayloadError(f"not a sealed học bạ summary (no {PREFIX} prefix)")
    try:
        cose = base45.b45decode(text[len(PREFIX) :])
        if cose[:1] == ZLIB_HEADER:
            cose = zlib.decompress(cose)
    except (ValueError, zlib.error) as error:
        raise QrPayloadError(f"not base45/zlib: {error}") from error
    try:
        message = cbor2.loads(cose)
        if isinstance(message, cbor2.CBORTag):
            if message.tag != COSE_SIGN1_TAG:
                raise QrPayloadError(f"CBOR tag {message.tag}, not COSE_Sign1")
            message = message.value
        protected_bytes, _unprotected, payload, signature = message
        protected = cbor2.loads(protected_bytes)
        claims = cbor2.loads(payload)
    except QrPayloadError:
        raise
    except (cbor2.CBORDecodeError, ValueError, TypeError) as error:
        raise QrPayloadError(f"not a COSE_Sign1 structure: {error}") from error
    if not isinstance(protected, dict) or protected.get(ALG) != ES256:
        raise QrPayloadError("the protected header does not name ES256")
    if not isinstance(claims, dict) or HOCBA_CLAIM not in claims:
        raise QrPayloadError("no học bạ summary claim in the payload")
    return Sealed(
        kid=bytes(protected.get(KID, b"")),
        issued_at=datetime.fromtimestamp(int(claims.get(IAT, 0)), UTC),
        summary=Summary.from_claim(claims[HOCBA_CLAIM]),
        signature=bytes(signature),
        signed_bytes=_sig_structure(protected_bytes, payload),
    )
