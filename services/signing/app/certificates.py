"""Is a signer's certificate acceptable: issued under our trust roots, valid now, meant for signing."""

from __future__ import annotations

from collections.abc import Callable

from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError

from services.runtime.timestamps import run
from services.signing.domain.errors import CertificateRefused

CertificateCheck = Callable[
    [bytes, list[bytes]], tuple[asn1_x509.Certificate, tuple[asn1_x509.Certificate, ...]]
]


def holder_of(cert: asn1_x509.Certificate) -> tuple[str | None, str | None]:
    """(common name, subject serialNumber): Vietnamese signing certificates carry the holder's id in the latter."""
    subject = cert.subject.native
    return subject.get("common_name"), subject.get("serial_number")


def _load(der: bytes) -> asn1_x509.Certificate:
    try:
        cert = asn1_x509.Certificate.load(der)
        cert.native  # noqa: B018 - parse everything now, so a broken certificate fails here and not mid-signing
    except ValueError as exc:
        raise CertificateRefused("Không đọc được chứng thư số (cần X.509 dạng DER hoặc PEM).") from exc
    return cert


def certificate_check(roots: list[asn1_x509.Certificate]) -> CertificateCheck:
    def check(
        der: bytes, chain: list[bytes]
    ) -> tuple[asn1_x509.Certificate, tuple[asn1_x509.Certificate, ...]]:
        cert = _load(der)
        intermediates = tuple(_load(c) for c in chain)
        # Revocation is checked when the document is validated (the CRL goes into the PDF with the seal);
        # here only the chain and the dates, so a teacher can sign while a CRL server is slow.
        context = ValidationContext(trust_roots=roots, other_certs=list(intermediates), allow_fetching=False)
        validator = CertificateValidator(
            cert, intermediate_certs=list(intermediates), validation_context=context
        )
        try:
            run(validator.async_validate_usage({"digital_signature"}))
        except (PathBuildingError, PathValidationError, ValidationError) as exc:
            raise CertificateRefused(
                "Chứng thư số không được chấp nhận: không chứng minh được chuỗi tin cậy tới tổ chức cung cấp dịch vụ"
                " chứng thực hoặc chứng thư đã hết hạn."
            ) from exc
        return cert, intermediates

    return check
