"""Sign a year record the way the service does (persons deferred, the seal in one go), with the test PKI's people.

Every helper takes and returns bytes, so a test can stop, reorder or substitute any step to build a tampered case.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

import sandbox.pki as pki
from sandbox.pki import Identity
from services.runtime.timestamps import KeptKeyTimeStamper
from services.signing.documents import pdf as pdf_doc
from services.signing.documents import xml as xml_doc
from services.signing.domain.model import Plan, Step
from tests.integration.signing.records import SCHOOL, documents

# The PKI label of each person named in records.py; the seal is the school's own certificate.
WHO = {"Nguyễn Văn An": "teacher-a", "Trần Thị Bình": "teacher-b", "Lê Văn Cường": "principal"}


@functools.cache
def timestamper() -> KeptKeyTimeStamper:
    # One instance: pyHanko reuses its dummy token for size estimates (signing.md §1.4).
    return KeptKeyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())


def identity_for(step: Step) -> Identity:
    return seal_identity(step) if step.is_seal else pki.identity(WHO[step.signer_name])


class CachedKeySigner(Signer):
    """A software key loaded once (``SimpleSigner`` reloads and re-checks it on every signature, signing.md §1.7)."""

    def __init__(self, ident: Identity) -> None:
        self._key = ident.key
        super().__init__(
            signing_cert=ident.certificate, cert_registry=SimpleCertificateStore.from_certs(list(ident.chain))
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        assert isinstance(self._key, ec.EllipticCurvePrivateKey)
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


def _device_sign(ident: Identity, digest: bytes) -> bytes:
    """What the person's token does: sign a pre-hashed sha256."""
    if isinstance(ident.key, rsa.RSAPrivateKey):
        return ident.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    assert isinstance(ident.key, ec.EllipticCurvePrivateKey)
    return ident.key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def sign_person(
    pdf: bytes, step: Step, ident: Identity | None = None, *, certify: bool | None = None
) -> bytes:
    ident = ident or identity_for(step)
    prepared = pdf_doc.prepare(
        pdf, step, ident.certificate, ident.chain, certify=step.order == 1 if certify is None else certify
    )
    return pdf_doc.finish(
        prepared, _device_sign(ident, prepared.to_sign), ident.certificate, ident.chain, timestamper()
    )


def seal(pdf: bytes, plan: Plan) -> bytes:
    vc = ValidationContext(trust_roots=[pki.root()], crls=pki.crls(), allow_fetching=False)
    return pdf_doc.seal(pdf, plan.seal, CachedKeySigner(seal_identity(plan.seal)), timestamper(), vc)


def seal_identity(step: Step) -> Identity:
    """The test PKI's seal is SCHOOL's; another school's seal is certified by the same CA for that school (its name
    and id), on the same key: what a record of a second school (a transfer's receiving school) is sealed with."""
    if step.signer_name == SCHOOL[1]:
        return pki.identity("seal")
    return _school_seal(step.signer_id, step.signer_name)


@functools.cache
def _school_seal(school_id: str, school_name: str) -> Identity:
    own = pki.identity("seal")
    certificate = pki.issue(
        own.key.public_key(),
        common_name=school_name,
        unit="Con dấu",
        organisation=school_name,
        subject_id=school_id,
    )
    return Identity(own.key, certificate, own.chain)


def sign_steps(pdf: bytes, plan: Plan, orders: Iterable[int]) -> bytes:
    """Sign the given steps in the given order (the seal, if listed, by the school's key)."""
    for order in orders:
        step = plan.step(order)
        pdf = seal(pdf, plan) if step.is_seal else sign_person(pdf, step)
    return pdf


def sign_package(record_xml: bytes, plan: Plan) -> bytes:
    package = xml_doc.wrap(record_xml)
    for step in plan.steps:
        ident = identity_for(step)
        prepared = xml_doc.prepare(package, step, ident.certificate, ident.chain)
        package = xml_doc.finish(prepared, _device_sign(ident, prepared.to_sign), ident.certificate)
    return package


@dataclass(frozen=True)
class Signed:
    """A record signed all the way: ``stages[k]`` is the PDF after step k (``stages[0]``: fields, no signature)."""

    xml: bytes
    plan: Plan
    stages: tuple[bytes, ...]
    package: bytes

    @property
    def pdf(self) -> bytes:
        return self.stages[-1]


@functools.cache
def signed_record() -> Signed:
    xml, pdf, plan = documents()
    stages = [pdf_doc.add_signature_fields(pdf, plan)]
    for step in plan.steps:
        stages.append(sign_steps(stages[-1], plan, [step.order]))
    return Signed(xml, plan, tuple(stages), sign_package(xml, plan))
