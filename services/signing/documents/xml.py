"""The standalone signed XML package: the year record as assembled, then a chain of XAdES-B signatures, one per step.

Each signature is detached and same-document: it references the record (``#record``) and every earlier
``ds:Signature``, so adding a later one never breaks an earlier one, and the seal covers all of them (an enveloped
``URI=""`` signature would digest the later signatures too). The record element is byte-for-byte the XML embedded
in the PDF, which lets the verifier compare the two.

People sign in two halves like the PDF: :func:`prepare` builds the signature with a placeholder value and returns
the sha256 of its canonical ``SignedInfo`` (what the device signs), :func:`finish` puts the device's value in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from lxml import etree
from signxml import methods
from signxml.algorithms import CanonicalizationMethod, SignatureMethod
from signxml.xades import XAdESSigner

from services.signing.documents.pdf import check_signature_value
from services.signing.domain.errors import SigningError
from services.signing.domain.model import Step

NS = "urn:hocba:signed:1"
DS = "http://www.w3.org/2000/09/xmldsig#"
RECORD_ID = "record"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
_PARSER = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True)


# The package's own schema: imports the record schema and the vendored XML-DSig and XAdES 1.3.2 schemas.
XSD = Path(__file__).resolve().parents[3] / "contracts" / "transcript" / "hocba-signed-1.xsd"


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), etree.XMLParser(no_network=True, resolve_entities=False)))


def schema_errors(package: etree._Element) -> list[str]:
    """What the package schema refuses (empty when the whole package, signatures included, is valid)."""
    schema = _schema()
    if schema.validate(package):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def parse(package: bytes) -> etree._Element:
    return etree.fromstring(package, _PARSER)


def wrap(record_xml: bytes) -> bytes:
    """The package before any signature: the record inside ``Content Id="record"``, an empty ``Signatures``."""
    root = etree.Element(_q("SignedYearRecord"), nsmap={None: NS})
    content = etree.SubElement(root, _q("Content"), Id=RECORD_ID)
    content.append(etree.fromstring(record_xml, _PARSER))
    etree.SubElement(root, _q("Signatures"))
    return cast(bytes, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def record_of(package: etree._Element) -> bytes:
    """The year record as the PDF embeds it (canonical XML 2.0, like the transcript service wrote it)."""
    content = package.find(_q("Content"))
    if content is None or len(content) != 1:
        raise SigningError("Gói XML không có nội dung học bạ.")
    return cast(bytes, etree.tostring(content[0], method="c14n2"))


def signatures(package: etree._Element) -> list[etree._Element]:
    """The ``Signature`` holders in document order (each wraps one ``ds:Signature``)."""
    return list(package.iterfind(f"{_q('Signatures')}/{_q('Signature')}"))


class _XAdESSigner(XAdESSigner):
    """signxml's XAdES signer, with the canonicalisation of the ``SignedProperties`` and ``KeyInfo`` references
    stated as a ``ds:Transform``.

    signxml 5.2 digests those two references with the signer's c14n algorithm (here exclusive C14N) but writes no
    ``ds:Transforms``; XML-DSig §4.4.3.2 then makes every other validator canonicalise them with inclusive C14N 1.0,
    so xmlsec1, EU DSS, Java and .NET reject the digest. Stating the transform makes the octets unambiguous.
    """

    def _add_reference_to_signed_info(self, sig_root: Any, node_to_reference: Any, **attrs: Any) -> None:
        signed_info = self._find(sig_root, "SignedInfo")
        reference = etree.SubElement(signed_info, f"{{{DS}}}Reference", nsmap=self.namespaces)
        reference.set("URI", f"#{node_to_reference.get('Id')}")
        for name, value in attrs.items():
            reference.set(name, value)
        transforms = etree.SubElement(reference, f"{{{DS}}}Transforms", nsmap=self.namespaces)
        etree.SubElement(
            transforms, f"{{{DS}}}Transform", nsmap=self.namespaces, Algorithm=self.c14n_alg.value
        )
        etree.SubElement(
            reference, f"{{{DS}}}DigestMethod", nsmap=self.namespaces, Algorithm=self.digest_alg.value
        )
        digest = self._get_digest(
            self._c14n(node_to_reference, algorithm=self.c14n_alg), algorithm=self.digest_alg
        )
        etree.SubElement(reference, f"{{{DS}}}DigestValue", nsmap=self.namespaces).text = base64.b64encode(
            digest
        ).decode("ascii")


class _CapturingKey:
    """Stands in for the signer's private key inside signxml: it keeps what would be signed and returns a
    placeholder, because the real key is on the person's token (or in the HSM) and signs in another request."""

    def __init__(self, public: Any) -> None:
        self._public = public
        self.key_size = (
            public.curve.key_size if isinstance(public, ec.EllipticCurvePublicKey) else public.key_size
        )
        self.signed_info: bytes | None = None

    def public_key(self) -> Any:  # signxml writes the KeyValue from it
        return self._public

    def sign(self, data: bytes, *args: Any, **kwargs: Any) -> bytes:
        self.signed_info = data
        return bytes(self.key_size // 8)


@dataclass(frozen=True)
class PreparedXml:
    package: bytes
    signature_id: str
    signed_info: bytes

    @property
    def to_sign(self) -> bytes:
        return hashlib.sha256(self.signed_info).digest()


def _pem(cert: asn1_x509.Certificate) -> str:
    return (
        x509.load_der_x509_certificate(cert.dump()).public_bytes(serialization.Encoding.PEM).decode("ascii")
    )


def prepare(
    package: bytes, step: Step, certificate: asn1_x509.Certificate, chain: tuple[asn1_x509.Certificate, ...]
) -> PreparedXml:
    root = parse(package)
    holders = signatures(root)
    if len(holders) != step.order - 1:
        raise SigningError(f"Gói XML có {len(holders)} chữ ký, bước {step.order} cần đúng {step.order - 1}.")
    earlier = [f"#{h[0].get('Id')}" for h in holders]
    public = x509.load_der_x509_certificate(certificate.dump()).public_key()
    is_ec = isinstance(public, ec.EllipticCurvePublicKey)
    key = _CapturingKey(public)
    algorithm = SignatureMethod.ECDSA_SHA256 if is_ec else SignatureMethod.RSA_SHA256
    signer = _XAdESSigner(
        method=methods.detached,
        signature_algorithm=algorithm,
        digest_algorithm="sha256",
        c14n_algorithm=EXC_C14N,
        claimed_roles=[step.claimed_role],
    )
    signature = signer.sign(
        root,
        key=key,  # type: ignore[arg-type]
        cert=[_pem(certificate), *(_pem(c) for c in chain)],
        reference_uri=[f"#{RECORD_ID}", *earlier],
    )
    assert key.signed_info is not None
    holder = etree.SubElement(
        root.find(_q("Signatures")),  # type: ignore[arg-type]
        _q("Signature"),
        order=str(step.order),
        role=step.role,
        field=step.field_name,
    )
    holder.append(signature)
    return PreparedXml(
        package=etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
        signature_id=str(signature.get("Id")),
        signed_info=key.signed_info,
    )


def finish(prepared: PreparedXml, signature: bytes, certificate: asn1_x509.Certificate) -> bytes:
    """Put the device's value (PKCS#1 v1.5 for RSA, DER for ECDSA) into the prepared signature."""
    check_signature_value(certificate, prepared.to_sign, signature)
    public = x509.load_der_x509_certificate(certificate.dump()).public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        # XML-DSig wants r||s where the device (and cryptography) gives DER
        r, s = utils.decode_dss_signature(signature)
        size = (public.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    root = parse(prepared.package)
    value = root.find(f".//{{{DS}}}Signature[@Id='{prepared.signature_id}']/{{{DS}}}SignatureValue")
    if value is None:
        raise SigningError("Không tìm thấy chữ ký đã chuẩn bị trong gói XML.")
    value.text = base64.b64encode(signature).decode("ascii")
    return cast(bytes, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
