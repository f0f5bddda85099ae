"""Our XAdES packages judged by someone else's implementation: xmlsec1 (libxmlsec1, Debian) verifies every signature.

Our verifier agreeing with our own signer proves nothing (signxml 5.2 digests ``SignedProperties`` with exclusive
C14N but states no transform; our verifier was once configured to expect that, xmlsec1 rejected every signature).
Each signature is checked on its own node, with the test PKI's root as the only trust anchor and the intermediate as
untrusted, so the certificate chain is xmlsec1's verdict too. Revocation is not: Debian's xmlsec1 1.2.37 is built
without CRL options (``--crl-pem`` "is not supported"), so the CRLs are checked by our verifier (certvalidator).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from pyhanko_certvalidator import ValidationContext
from signxml.xades import XAdESSigner

import sandbox.pki as pki
from services.signing.documents import xml as xml_doc
from services.signing.verifier.model import HASH_FAILURE
from services.signing.verifier.xml_checks import read_package
from tests.helpers import needs_tools
from tests.integration.signing.records import documents, primary_year_record, year_record
from tests.integration.signing.signed import sign_package

PKI = Path(pki.__file__).parent
XMLSEC1 = shutil.which("xmlsec1")
pytestmark = needs_tools("xmlsec1", install="make setup installs Debian's xmlsec1")
LEVELS = {"tt22": year_record, "tt27": primary_year_record}


def signature_ids(package: bytes) -> list[str]:
    return [str(s.get("Id")) for s in xml_doc.parse(package).iter(f"{{{xml_doc.DS}}}Signature")]


def xmlsec1_verify(package: Path, node_id: str) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1, "xmlsec1 is installed by make setup (Debian package xmlsec1)"
    return subprocess.run(
        [
            XMLSEC1,
            "--verify",
            # Only the certificate may give the key, so the chain decides: without this flag xmlsec1 takes the key
            # from <KeyValue> and accepts a signature made under a CA nobody trusts.
            "--enabled-key-data",
            "x509",
            "--node-id",
            node_id,
            "--trusted-pem",
            str(PKI / "roots.pem"),
            "--untrusted-pem",
            str(PKI / "chain.pem"),
            "--id-attr:Id",
            "Content",
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            "--id-attr:Id",
            "http://www.w3.org/2000/09/xmldsig#:KeyInfo",
            "--id-attr:Id",
            "http://www.w3.org/2000/09/xmldsig#:Signature",
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def our_verdicts(package: bytes) -> list[tuple[bool, str | None]]:
    vc = ValidationContext(trust_roots=[pki.root()], crls=pki.crls(), allow_fetching=False)
    facts = asyncio.run(read_package(package, vc))
    return [(s.verified, s.error_indication) for s in facts.signatures]


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_xmlsec1_verifies_every_signature_of_a_sealed_package(level, tmp_path):
    xml, _, plan = documents(LEVELS[level]())
    package = sign_package(xml, plan)
    path = tmp_path / "package.signed.xml"
    path.write_bytes(package)
    ids = signature_ids(package)
    assert len(ids) == len(plan.steps) >= 5  # two teachers, homeroom, principal, seal
    for node_id in ids:
        result = xmlsec1_verify(path, node_id)
        assert result.returncode == 0 and "OK" in result.stderr, (node_id, result.stderr[-2000:])
    # the chain: each signature covers the record and every earlier signature, each reference with its transform
    root = xml_doc.parse(package)
    for position, signature in enumerate(root.iter(f"{{{xml_doc.DS}}}Signature")):
        references = signature.findall(f"{{{xml_doc.DS}}}SignedInfo/{{{xml_doc.DS}}}Reference")
        assert [r.get("URI") for r in references[: position + 1]] == [
            "#record",
            *(f"#{i}" for i in ids[:position]),
        ]
        assert all(
            r.find(f"{{{xml_doc.DS}}}Transforms/{{{xml_doc.DS}}}Transform") is not None for r in references
        )
    assert all(ok for ok, _ in our_verdicts(package))


def _old_way(package: bytes, step, ident) -> xml_doc.PreparedXml:  # type: ignore[no-untyped-def]
    """The signature as signxml's own XAdESSigner makes it: exclusive-C14N digests, no stated transform."""
    original = xml_doc._XAdESSigner
    xml_doc._XAdESSigner = XAdESSigner  # type: ignore[misc]
    try:
        return xml_doc.prepare(package, step, ident.certificate, ident.chain)
    finally:
        xml_doc._XAdESSigner = original  # type: ignore[misc]


def test_a_signed_properties_digest_computed_the_old_way_fails_xmlsec1_and_our_verifier(tmp_path):
    from tests.integration.signing.signed import _device_sign, identity_for

    xml, _, plan = documents()
    package = xml_doc.wrap(xml)
    step = plan.steps[0]
    ident = identity_for(step)
    prepared = _old_way(package, step, ident)
    package = xml_doc.finish(prepared, _device_sign(ident, prepared.to_sign), ident.certificate)
    signature = xml_doc.parse(package).find(f".//{{{xml_doc.DS}}}Signature")
    assert signature is not None
    properties_ref = signature.find(
        f"{{{xml_doc.DS}}}SignedInfo/{{{xml_doc.DS}}}Reference[@Type='http://uri.etsi.org/01903#SignedProperties']"
    )
    assert properties_ref is not None and properties_ref.find(f"{{{xml_doc.DS}}}Transforms") is None
    path = tmp_path / "old.signed.xml"
    path.write_bytes(package)
    result = xmlsec1_verify(path, str(signature.get("Id")))
    assert result.returncode != 0, result.stderr
    assert our_verdicts(package) == [(False, HASH_FAILURE)]


def test_xmlsec1_refuses_an_edited_record(tmp_path):
    """The control that shows the check can fail: one changed mark breaks the first reference of every signature."""
    xml, _, plan = documents()
    package = sign_package(xml, plan)
    root = xml_doc.parse(package)
    mark = next(e for e in root.iter() if isinstance(e.tag, str) and (e.text or "").strip() == "7.8")
    mark.text = "9.8"
    path = tmp_path / "edited.signed.xml"
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    for node_id in signature_ids(package):
        assert xmlsec1_verify(path, node_id).returncode != 0


def test_xmlsec1_refuses_a_signature_made_under_an_untrusted_ca(tmp_path):
    """The control that shows xmlsec1 checks the chain, not only the maths: a teacher's certificate from the rogue
    test CA (a sound signature, a well-formed chain to a root nobody trusts) fails certificate verification."""
    from tests.integration.signing.signed import _device_sign

    xml, _, plan = documents()
    package = xml_doc.wrap(xml)
    rogue = pki.identity("person", arch="rogue")
    prepared = xml_doc.prepare(package, plan.steps[0], rogue.certificate, rogue.chain)
    package = xml_doc.finish(prepared, _device_sign(rogue, prepared.to_sign), rogue.certificate)
    path = tmp_path / "rogue.signed.xml"
    path.write_bytes(package)
    (node_id,) = signature_ids(package)
    result = xmlsec1_verify(path, node_id)
    assert result.returncode != 0, result.stderr
    assert "certificate verification failed" in result.stderr, result.stderr
