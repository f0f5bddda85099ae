"""The school's seal on a fully signed record (PAdES B-LTA, the last XAdES signature) and its QR summary's signature."""

from __future__ import annotations

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from pyhanko.sign.timestamps.api import TimeStamper

from services.signing.adapters.clients import RevocationInfo
from services.signing.adapters.hsm import SealKeys
from services.signing.documents import pdf as pdf_doc
from services.signing.documents import qr_seal
from services.signing.documents import xml as xml_doc
from services.signing.domain.errors import SealUnavailable
from services.signing.domain.model import Step


class Sealer:
    def __init__(
        self,
        keys: SealKeys,
        timestamper: TimeStamper,
        revocation: RevocationInfo,
        roots: list[asn1_x509.Certificate],
        chain: tuple[asn1_x509.Certificate, ...],
    ) -> None:
        self.keys = keys
        self.timestamper = timestamper
        self.revocation = revocation
        self.roots = roots
        self.chain = chain

    def seal(self, school_id: str, step: Step, pdf: bytes, package: bytes) -> tuple[bytes, bytes]:
        try:
            return self._seal(school_id, step, pdf, package)
        except Exception as error:
            if not _from_the_hsm(error):
                raise
            # A session error (HSM restarted, session closed, token gone): reopen on the next try.
            self.keys.reset()
            raise SealUnavailable(
                f"Mất phiên làm việc với thiết bị ký số (HSM): {type(_from_the_hsm(error)).__name__}; "
                "sẽ mở phiên mới và thử lại."
            ) from error

    def _seal(self, school_id: str, step: Step, pdf: bytes, package: bytes) -> tuple[bytes, bytes]:
        certificate = self.keys.certificate(school_id)
        if certificate is None:
            raise SealUnavailable(f"Trường {school_id} chưa có khóa con dấu trong HSM.")
        context = self.revocation.validation_context(self.roots, [certificate, *self.chain])
        sealed_pdf = pdf_doc.seal(pdf, step, self.keys.signer(school_id), self.timestamper, context)
        prepared = xml_doc.prepare(package, step, certificate, self.chain)
        sealed_xml = xml_doc.finish(prepared, self.keys.sign_digest(school_id, prepared.to_sign), certificate)
        return sealed_pdf, sealed_xml


def _from_the_hsm(error: BaseException) -> pkcs11.PKCS11Error | None:
    """The PKCS#11 error behind ``error`` (pyHanko may wrap it), if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, pkcs11.PKCS11Error):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class QrSealer:
    """The sealed QR summary of a record, signed by the school's QR key in the same HSM as its seal."""

    def __init__(self, keys: SealKeys) -> None:
        self.keys = keys

    def summary_text(self, school_id: str, record_xml: bytes) -> str | None:
        """The QR text, or None when the school has no QR key yet (its pages keep the form's lookup-URL QR)."""
        try:
            certificate = self.keys.qr_certificate(school_id)
            if certificate is None:
                return None
            return qr_seal.seal(
                qr_seal.summary_of(record_xml),
                qr_seal.kid_of(certificate.dump()),
                lambda digest: self.keys.sign_qr(school_id, digest),
            )
        except Exception as error:
            if not _from_the_hsm(error):
                raise
            self.keys.reset()
            raise SealUnavailable(
                f"Mất phiên làm việc với thiết bị ký số (HSM) khi ký mã QR: {type(_from_the_hsm(error)).__name__}."
            ) from error


class FakeQrSealer:
    """A QR sealer with a software key (tests, benches): the same summary and signature, no HSM."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate_der: bytes) -> None:
        self.key = key
        self.kid = qr_seal.kid_of(certificate_der)

    def sign(self, digest: bytes) -> bytes:
        r, s = utils.decode_dss_signature(self.key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def summary_text(self, school_id: str, record_xml: bytes) -> str | None:
        return qr_seal.seal(qr_seal.summary_of(record_xml), self.kid, self.sign)
