"""The signed package validates against its own XSD (record, XML-DSig and XAdES schemas imported, offline)."""

from __future__ import annotations

import pytest
from lxml import etree

from services.signing.documents import xml as xml_doc
from services.signing.verifier import verify
from services.transcript.documents import xml_package
from tests.integration.signing.records import documents, primary_year_record, year_record
from tests.integration.signing.signed import sign_package, signed_record

XADES = "http://uri.etsi.org/01903/v1.3.2#"


@pytest.mark.parametrize("make", [year_record, primary_year_record], ids=["tt22", "tt27"])
def test_a_signed_package_and_its_record_validate_against_their_schemas(make):
    xml, _, plan = documents(make())
    package = xml_doc.parse(sign_package(xml, plan))
    assert xml_doc.schema_errors(package) == []
    xml_package.validate(xml_doc.record_of(package))  # raises if the record does not match its own XSD


def test_the_package_schema_checks_the_xades_properties_too():
    package = xml_doc.parse(signed_record().package)
    properties = package.find(f".//{{{XADES}}}SignedSignatureProperties")
    assert properties is not None
    etree.SubElement(properties, f"{{{XADES}}}NotInXAdES")
    assert any("NotInXAdES" in e for e in xml_doc.schema_errors(package))


def test_the_verifier_reports_a_package_outside_its_schema(animator):
    signed = signed_record()
    root = xml_doc.parse(signed.package)
    holder = xml_doc.signatures(root)[0]
    holder.set("order", "first")  # not a positive integer; no signature covers the holder's attributes
    report = verify(signed.pdf, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert not report.passed
    assert any("hocba-signed-1.xsd" in r for r in report.reasons)
    assert verify(signed.pdf, signed.package).passed
