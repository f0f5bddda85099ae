"""Verify the standalone signed XML package: each XAdES-B signature with signxml, its chain with certvalidator.

signxml checks the reference digests (with the XML-DSig defaults only: a reference without a ``ds:Transform`` is
canonicalised with inclusive C14N 1.0, as xmlsec1 and every other validator do; see tests/integration/signing/test_xmlsec_interop.py) and the signature value against the certificate we hand it; the chain to a
trust root and revocation go through pyHanko's certvalidator with the same context as the PDF (same trust roots,
the CRLs the seal embedded), so both documents are judged by one standard.
"""

from __future__ import annotations

import base64
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from lxml import etree
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature, SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from services.signing.documents import xml as xml_doc
from services.signing.domain.errors import SigningError
from services.signing.verifier.model import (
    FORMAT_FAILURE,
    HASH_FAILURE,
    NO_CERTIFICATE_CHAIN_FOUND,
    SIG_CRYPTO_FAILURE,
    Unreadable,
    XmlFacts,
    XmlSignature,
)
from services.signing.verifier.pdf_checks import signer_of

DS = xml_doc.DS
XADES = "http://uri.etsi.org/01903/v1.3.2#"
SIGNED_PROPERTIES = "http://uri.etsi.org/01903#SignedProperties"


def _certificates(signature: etree._Element) -> list[asn1_x509.Certificate]:
    return [
        asn1_x509.Certificate.load(base64.b64decode("".join((c.text or "").split())))
        for c in signature.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    ]


def _data_references(signature: etree._Element) -> tuple[list[str], int]:
    """The URIs the signature covers besides its own SignedProperties and KeyInfo, and how many references in all."""
    key_info = signature.find(f"{{{DS}}}KeyInfo")
    key_info_uri = f"#{key_info.get('Id')}" if key_info is not None and key_info.get("Id") else None
    references = list(signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"))
    data = [
        r.get("URI", "")
        for r in references
        if r.get("Type") != SIGNED_PROPERTIES and r.get("URI") != key_info_uri
    ]
    return data, len(references)


async def _trust(
    leaf: asn1_x509.Certificate, chain: list[asn1_x509.Certificate], vc: ValidationContext
) -> tuple[bool, bool, str | None]:
    """(trusted, revoked, problem) the way pyHanko judges a PDF signer's certificate."""
    try:
        await CertificateValidator(
            leaf, intermediate_certs=chain, validation_context=vc
        ).async_validate_usage({"digital_signature"})
        return True, False, None
    except RevokedError:
        return False, True, "REVOKED"
    except PathBuildingError:
        return False, False, NO_CERTIFICATE_CHAIN_FOUND
    except ExpiredError:
        return False, False, "EXPIRED"
    except NotYetValidError:
        return False, False, "NOT_YET_VALID"
    except Exception:
        return False, False, "CERTIFICATE_CHAIN_GENERAL_FAILURE"


def _time(properties: etree._Element | None) -> datetime | None:
    node = properties.find(f".//{{{XADES}}}SigningTime") if properties is not None else None
    try:
        return datetime.fromisoformat((node.text or "").strip()) if node is not None else None
    except ValueError:
        return None


async def _one(
    package: bytes, holder: etree._Element, position: int, earlier: list[str], vc: ValidationContext
) -> XmlSignature:
    signature = holder.find(f"{{{DS}}}Signature")
    attrs = (holder.get("order"), holder.get("role"), holder.get("field"))
    if signature is None:
        return XmlSignature(
            position,
            *attrs,
            None,
            (),
            None,
            False,
            "no ds:Signature",
            FORMAT_FAILURE,
            False,
            False,
            False,
            None,
        )
    data_refs, n_refs = _data_references(signature)
    references_ok = data_refs == [f"#{xml_doc.RECORD_ID}", *(f"#{i}" for i in earlier)]
    try:
        certs = _certificates(signature)
    except Exception:
        certs = []
    leaf, chain = (certs[0], certs[1:]) if certs else (None, [])
    verified, error, indication, time = False, None, None, None
    roles: tuple[str, ...] = ()
    if leaf is None:
        error, indication = "no signing certificate", FORMAT_FAILURE
    else:
        config = XAdESSignatureConfiguration(
            location=f"./{{{xml_doc.NS}}}Signatures/{{{xml_doc.NS}}}Signature[{position}]/",
            expect_references=n_refs,
        )
        try:
            results = XAdESVerifier().verify(
                package, x509_cert=x509.load_der_x509_certificate(leaf.dump()), expect_config=config
            )
            properties = next((r.signed_properties for r in results if hasattr(r, "signed_properties")), None)
            roles = tuple(
                (r.text or "").strip() for r in properties.iterfind(f".//{{{XADES}}}ClaimedRole")
            ) if properties is not None else ()  # fmt: skip
            time = _time(properties)
            verified = True
        except InvalidDigest as exc:  # before InvalidSignature: it is a subclass
            error, indication = str(exc), HASH_FAILURE
        except (InvalidSignature, InvalidCertificate) as exc:
            error, indication = str(exc), SIG_CRYPTO_FAILURE
        except (SignXMLException, ValueError) as exc:
            error, indication = str(exc), FORMAT_FAILURE
    trusted, revoked, problem = await _trust(leaf, chain, vc) if leaf is not None else (False, False, None)
    return XmlSignature(
        position=position,
        order=attrs[0],
        role=attrs[1],
        field=attrs[2],
        signer=signer_of(leaf),
        claimed_roles=roles,
        time=time,
        verified=verified,
        error=error,
        error_indication=indication,
        references_ok=references_ok,
        trusted=trusted,
        revoked=revoked,
        trust_problem=problem,
    )


async def read_package(package: bytes, vc: ValidationContext) -> XmlFacts:
    try:
        root = xml_doc.parse(package)
    except etree.XMLSyntaxError as error:
        raise Unreadable(f"the XML package is not well-formed: {error}") from None
    if root.tag != f"{{{xml_doc.NS}}}SignedYearRecord":
        raise Unreadable(f"not a signed year record package ({root.tag})")
    try:
        record: bytes | None = xml_doc.record_of(root)
    except SigningError:
        record = None
    found: list[XmlSignature] = []
    earlier: list[str] = []
    for position, holder in enumerate(xml_doc.signatures(root), start=1):
        found.append(await _one(package, holder, position, earlier, vc))
        signature = holder.find(f"{{{DS}}}Signature")
        earlier.append(str(signature.get("Id")) if signature is not None else "")
    return XmlFacts(record, tuple(found), tuple(xml_doc.schema_errors(root)))
