"""The schools' seals in a PKCS#11 token (SoftHSM2 in development and CI, a network HSM in production).

Each school's seal key is generated inside the token, non-extractable, labelled ``seal-<school id>``; its
certificate sits beside it under the same label. The service only ever asks the token to sign.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable
from typing import Any

import pkcs11
import pkcs11.exceptions
from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pyhanko.sign.pkcs11 import PKCS11Signer

from services.runtime.settings import Settings
from services.signing.domain.errors import SealUnavailable

IssueCertificate = Callable[[rsa.RSAPublicKey], asn1_x509.Certificate]
IssueQrCertificate = Callable[[ec.EllipticCurvePublicKey], asn1_x509.Certificate]


def label_for(school_id: str) -> str:
    return f"seal-{school_id}"


def qr_label_for(school_id: str) -> str:
    """The school's QR-sealing key: its own ECDSA P-256 key (a QR has room for 64 signature bytes, not 256)."""
    return f"qr-{school_id}"


def _store_certificate(session: Any, label: str, key_id: bytes, certificate: asn1_x509.Certificate) -> None:
    """The key's certificate on the token, beside it (same label and id): what PKCS#11 signers look up."""
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.LABEL: label,
            Attribute.ID: key_id,
            Attribute.SUBJECT: certificate.subject.dump(),
            Attribute.VALUE: certificate.dump(),
        }
    )


def _digest_info(digest: bytes) -> bytes:
    """PKCS#1 v1.5 over a pre-computed sha256: the token's raw CKM_RSA_PKCS wants the DigestInfo around it."""
    return bytes(algos.DigestInfo({"digest_algorithm": {"algorithm": "sha256"}, "digest": digest}).dump())


class SealKeys:
    """One session per process, opened on first use; after a session error (``reset``) the next call opens a new one."""

    def __init__(self, settings: Settings, chain: tuple[asn1_x509.Certificate, ...] = ()) -> None:
        self._settings = settings
        self._chain = chain
        self._session: Any = None
        self._signers: dict[str, PKCS11Signer] = {}
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._session is not None:
            return self._session
        settings = self._settings
        if settings.softhsm_conf:
            os.environ.setdefault("SOFTHSM2_CONF", settings.softhsm_conf)
        if settings.pkcs11_pin is None:
            raise SealUnavailable("Chưa cấu hình mã PIN của thiết bị ký số (HOCBA_PKCS11_PIN).")
        try:
            token = pkcs11.lib(settings.pkcs11_module).get_token(token_label=settings.pkcs11_token)
            try:
                self._session = token.open(user_pin=settings.pkcs11_pin.get_secret_value(), rw=True)
            except pkcs11.exceptions.UserAlreadyLoggedIn:
                # PKCS#11 login is per application: another session of this process logged in already.
                self._session = token.open(rw=True)
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
            raise SealUnavailable(f"Không mở được thiết bị ký số (HSM): {type(exc).__name__}.") from exc
        return self._session

    def reset(self) -> None:
        """Forget the session and the signers built on it: the HSM restarted, the session was closed or the token
        was removed. The next call opens a new session (a dead one would fail every seal until the process restarts)."""
        with self._lock:
            session, self._session = self._session, None
            self._signers.clear()
        if session is not None:
            with contextlib.suppress(Exception):  # it is already broken; closing is a courtesy
                session.close()

    def certificate(self, school_id: str) -> asn1_x509.Certificate | None:
        return self._stored_certificate(label_for(school_id))

    def qr_certificate(self, school_id: str) -> asn1_x509.Certificate | None:
        return self._stored_certificate(qr_label_for(school_id))

    def _stored_certificate(self, label: str) -> asn1_x509.Certificate | None:
        found = list(
            self._open().get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label})
        )
        return asn1_x509.Certificate.load(bytes(found[0][Attribute.VALUE])) if found else None

    def qr_certificates(self) -> list[asn1_x509.Certificate]:
        """Every school's QR certificate in the token (what the province's trust list is built from)."""
        found = self._open().get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
        return [
            asn1_x509.Certificate.load(bytes(obj[Attribute.VALUE]))
            for obj in found
            if str(obj[Attribute.LABEL]).startswith("qr-")
        ]

    def sign_qr(self, school_id: str, digest: bytes) -> bytes:
        """ECDSA P-256 over a sha256 the caller computed, as raw r‖s (PKCS#11's form is COSE's)."""
        keys = list(
            self._open().get_objects(
                {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: qr_label_for(school_id)}
            )
        )
        if not keys:
            raise SealUnavailable(f"Trường {school_id} chưa có khóa ký mã QR trong HSM.")
        return bytes(keys[0].sign(digest, mechanism=Mechanism.ECDSA))

    def provision_qr(self, school_id: str, issue: IssueQrCertificate) -> asn1_x509.Certificate:
        """Generate the school's QR-sealing key pair (P-256) inside the token and store its certificate. Idempotent."""
        existing = self.qr_certificate(school_id)
        if existing is not None:
            return existing
        session = self._open()
        label = qr_label_for(school_id)
        key_id = hashlib.sha256(label.encode()).digest()[:8]
        params = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        public, _private = params.generate_keypair(
            store=True,
            label=label,
            id=key_id,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True},
        )
        loaded = serialization.load_der_public_key(encode_ec_public_key(public))
        assert isinstance(loaded, ec.EllipticCurvePublicKey)
        certificate = issue(loaded)
        _store_certificate(session, label, key_id, certificate)
        return certificate

    def signer(self, school_id: str) -> PKCS11Signer:
        """pyHanko's signer for the seal, cached: building one reads the certificate from the token."""
        with self._lock:
            if school_id not in self._signers:
                if self.certificate(school_id) is None:
                    raise SealUnavailable(f"Trường {school_id} chưa có khóa con dấu trong HSM.")
                self._signers[school_id] = PKCS11Signer(
                    self._open(),
                    key_label=label_for(school_id),
                    cert_label=label_for(school_id),
                    ca_chain=self._chain,
                )
            return self._signers[school_id]

    def sign_digest(self, school_id: str, digest: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature of a sha256 the caller computed (the XML package's SignedInfo)."""
        keys = list(
            self._open().get_objects(
                {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label_for(school_id)}
            )
        )
        if not keys:
            raise SealUnavailable(f"Trường {school_id} chưa có khóa con dấu trong HSM.")
        return bytes(keys[0].sign(_digest_info(digest), mechanism=Mechanism.RSA_PKCS))

    def provision(self, school_id: str, issue: IssueCertificate) -> asn1_x509.Certificate:
        """Generate the school's key pair inside the token and store the certificate issued for it.

        Idempotent: a school that already has a seal keeps it.
        """
        existing = self.certificate(school_id)
        if existing is not None:
            return existing
        session = self._open()
        label = label_for(school_id)
        key_id = hashlib.sha256(label.encode()).digest()[:8]
        public, _private = session.generate_keypair(
            KeyType.RSA,
            2048,
            store=True,
            label=label,
            id=key_id,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True},
        )
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(public[Attribute.MODULUS], "big"),
        )
        certificate = issue(numbers.public_key())
        _store_certificate(session, label, key_id, certificate)
        return certificate
