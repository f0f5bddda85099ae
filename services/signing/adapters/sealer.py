"""The school's seal on a fully signed record: PAdES B-LTA on the PDF, the last XAdES signature on the XML."""

from __future__ import annotations

import pkcs11
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper

from services.signing.adapters.clients import RevocationInfo
from services.signing.adapters.hsm import SealKeys
from services.signing.documents import pdf as pdf_doc
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
