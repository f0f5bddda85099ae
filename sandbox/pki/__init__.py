"""The test PKI (certomancer, offline, deterministic): trust roots, the issuing CA that enrols sandbox signers, the TSA.

``pki.yml`` fixes the CA hierarchy and a few named people for the signing tests. Teachers of a sample school are
enrolled at run time: the sandbox remote signing service and the seal provisioning ask :func:`issue` for a
certificate from the same issuing CA, as a real CA would issue one to a person or to a school's HSM key.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import certomancer.crypto_utils
from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from certomancer.crypto_utils import PycaCryptographyBackend
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, KeyLabel, ServiceLabel
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "pki.yml"
ROOTS_PEM = HERE / "roots.pem"
ANIMATOR_PORT = 9797  # external-url-prefix in pki.yml: CRL and TSA URLs in the certificates point here
TSA_URL = f"http://127.0.0.1:{ANIMATOR_PORT}/hocba/tsa/tsa"
CRL_URL = f"http://127.0.0.1:{ANIMATOR_PORT}/hocba/crls/interm/latest.crl"


@dataclass(frozen=True)
class Identity:
    """A signer's key and certificate with the chain up to (not including) the root."""

    key: PrivateKeyTypes
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]

    @property
    def certificate_pem(self) -> bytes:
        return _pem(self.certificate)


def _pem(cert: asn1_x509.Certificate) -> bytes:
    return x509.load_der_x509_certificate(cert.dump()).public_bytes(serialization.Encoding.PEM)


@functools.cache
def _loaded(key_der: bytes) -> PrivateKeyTypes:
    # The test PKI's own keys, checked in: cryptography's RSA key check (about 37 ms a load) proves nothing here.
    return serialization.load_der_private_key(key_der, password=None, unsafe_skip_rsa_key_validation=True)


class KeptKeys(PycaCryptographyBackend):
    """certomancer's key handling with each test key parsed once. certomancer loads every key of pki.yml twice on
    reading it (0.75 CPU-s in every process that uses the test PKI) and again from DER for every CRL, timestamp token
    and OCSP response it signs, and cryptography checks an RSA key on each load."""

    def load_private_key(
        self, key_bytes: bytes, password: bytes | None
    ) -> tuple[asn1_keys.PrivateKeyInfo, asn1_keys.PublicKeyInfo]:
        if key_bytes.lstrip().startswith(b"-----"):
            key = serialization.load_pem_private_key(key_bytes, password, unsafe_skip_rsa_key_validation=True)
        else:
            key = serialization.load_der_private_key(key_bytes, password, unsafe_skip_rsa_key_validation=True)
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return asn1_keys.PrivateKeyInfo.load(der), asn1_keys.PublicKeyInfo.load(public)

    def generic_sign(
        self, private_key: asn1_keys.PrivateKeyInfo, tbs_bytes: bytes, sd_algo: algos.SignedDigestAlgorithm
    ) -> bytes:
        key, algorithm = _loaded(private_key.dump()), sd_algo.signature_algo
        digest = getattr(hashes, str(sd_algo.hash_algo).upper())()
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(tbs_bytes, padding.PKCS1v15(), digest)
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(tbs_bytes, ec.ECDSA(digest))
        return super().generic_sign(private_key, tbs_bytes, sd_algo)  # PSS, EdDSA…: as certomancer does


@functools.cache
def _config() -> CertomancerConfig:
    # certomancer reads and signs with keys through this module-level backend (where it chooses its implementation).
    certomancer.crypto_utils.CRYPTO_BACKEND = KeptKeys()
    return CertomancerConfig.from_file(str(CONFIG), key_search_dir=str(HERE))


def _arch(name: str = "hocba"):  # type: ignore[no-untyped-def]
    return _config().get_pki_arch(ArchLabel(name))


def certificate(label: str, arch: str = "hocba") -> asn1_x509.Certificate:
    return _arch(arch).get_cert(CertLabel(label))


def private_key(label: str, arch: str = "hocba") -> PrivateKeyTypes:
    info: asn1_keys.PrivateKeyInfo = _arch(arch).key_set.get_private_key(KeyLabel(label))
    return _loaded(info.dump())


def root() -> asn1_x509.Certificate:
    return certificate("root")


def issuing_ca() -> asn1_x509.Certificate:
    return certificate("interm")


def roots_pem() -> bytes:
    """The trust anchors of the sandbox (what ``roots.pem`` holds; a test keeps the two equal)."""
    return _pem(root())


@functools.cache
def identity(label: str, arch: str = "hocba") -> Identity:
    """A named person of ``pki.yml`` (teacher-a, teacher-b, principal, seal; rogue/person)."""
    chain = (issuing_ca(),) if arch == "hocba" else ()
    return Identity(private_key(label, arch), certificate(label, arch), chain)


def key_info(label: str, arch: str = "hocba") -> asn1_keys.PrivateKeyInfo:
    return _arch(arch).key_set.get_private_key(KeyLabel(label))


def tsa_key_info() -> asn1_keys.PrivateKeyInfo:
    return key_info("tsa")


def issue_qr(public_key: PublicKeyTypes, *, school_id: str, school_name: str) -> asn1_x509.Certificate:
    """A school's QR-sealing certificate: digitalSignature only, extended usage QR_SEAL_OID (not a seal of the record)."""
    from services.signing.documents.qr_seal import QR_SEAL_OID

    return issue(
        public_key,
        common_name=school_name,
        unit="Mã QR học bạ",
        organisation=school_name,
        subject_id=school_id,
        content_commitment=False,
        extended_usage=(QR_SEAL_OID,),
    )


def _province(key_file: str, purpose: str, unit: str, subject_id: str, usage: str) -> Identity:
    """A key of the (test) province office, certified by the issuing CA for one purpose only (``usage``)."""
    key = serialization.load_pem_private_key((HERE / "keys" / key_file).read_bytes(), None)
    certificate = issue(
        key.public_key(),
        common_name=f"Sở GD&ĐT thử nghiệm: {purpose}",
        unit=unit,
        organisation="Sở Giáo dục và Đào tạo (thử nghiệm)",
        subject_id=subject_id,
        content_commitment=False,
        extended_usage=(usage,),
    )
    return Identity(key, certificate, (issuing_ca(),))


@functools.cache
def province_qr() -> Identity:
    """The (test) province office's key that signs the trust list of the schools' QR certificates."""
    from services.signing.documents.qr_seal import TRUST_LIST_OID

    return _province(
        "province-qr.key.pem",
        "danh sách tin cậy mã QR",
        "Danh sách tin cậy",
        "so-gddt-thu-nghiem",
        TRUST_LIST_OID,
    )


@functools.cache
def province_extract() -> Identity:
    """The (test) province office's key that signs the families' extracts at the portal (its manifest)."""
    from services.signing.documents.qr_seal import EXTRACT_OID

    return _province(
        "province-extract.key.pem",
        "trích lục học bạ",
        "Cổng tra cứu học bạ",
        "so-gddt-thu-nghiem-trich-luc",
        EXTRACT_OID,
    )


def signer_pem(identity: Identity) -> bytes:
    """The identity's key and certificates in one PEM file (key, certificate, chain): what the gateway is given."""
    key = identity.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key + identity.certificate_pem + b"".join(_pem(c) for c in identity.chain)


def crls() -> list:  # type: ignore[type-arg]
    services = _arch().service_registry
    return [services.get_crl(ServiceLabel("interm")), services.get_crl(ServiceLabel("root"))]


def issue(
    public_key: PublicKeyTypes,
    *,
    common_name: str,
    unit: str,
    organisation: str,
    subject_id: str,
    valid_for: timedelta = timedelta(days=3 * 365),
    not_before: datetime | None = None,
    content_commitment: bool = True,
    extended_usage: tuple[str, ...] = (),
) -> asn1_x509.Certificate:
    """A signing certificate from the issuing CA, as the CA would issue it at enrolment.

    ``subject_id`` goes into the subject's serialNumber, the way Vietnamese signing certificates carry the holder's
    identifier; our verifier matches it against the signer named in the signature plan. A key that only seals
    machine-read data (a QR summary, a trust list) gets ``content_commitment=False`` and its ``extended_usage`` OID,
    so it cannot pass for a signature on the record itself.
    """
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    ca = x509.load_der_x509_certificate(issuing_ca().dump())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, subject_id),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=content_commitment,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
    )
    if extended_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in extended_usage]), critical=False
        )
    issued = builder.sign(private_key("interm"), hashes.SHA256())  # type: ignore[arg-type]
    return asn1_x509.Certificate.load(issued.public_bytes(serialization.Encoding.DER))
