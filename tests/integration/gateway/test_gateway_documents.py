"""What the gateway reads from a year record: identity (XSD first), the PDF's hocba.xml, the public content."""

from __future__ import annotations

import pytest

from sandbox.gateway import documents, verifiers
from sandbox.gateway.domain import errors
from tests.integration.gateway.support import PERSONAL_ID, docs, primary_record, year_record


def test_identity_is_read_from_a_valid_xml():
    d = docs(year_record(version=3))
    identity = documents.read_identity(d.xml)
    assert identity == documents.Identity(
        lookup_code=d.record.lookup_code,
        transcript_id=d.record.transcript_id,
        year_record_id=d.record.year_record_id,
        version=3,
        school_id="s1",
        student_id=d.record.student_id,
        school_year="2025-2026",
        grade=8,
    )
    assert documents.peek(d.xml) == (d.record.year_record_id, 3)
    assert documents.peek(b"not xml") == (None, None)


@pytest.mark.parametrize(
    "xml", [b"", b"<x/>", b"<?xml version='1.0'?><YearRecord/>", b"<!DOCTYPE x [<!ENTITY e 'a'>]><x>&e;</x>"]
)
def test_anything_but_a_valid_year_record_is_xsd_invalid(xml):
    with pytest.raises(errors.XsdInvalid):
        documents.read_identity(xml)


def test_the_pdf_carries_exactly_the_xml_it_was_rendered_from():
    d, other = docs(year_record()), docs(year_record())
    assert documents.embedded_xml(d.pdf) == d.xml
    documents.check_embedded_xml(d.pdf, d.xml)
    with pytest.raises(errors.XmlMismatch):
        documents.check_embedded_xml(other.pdf, d.xml)
    with pytest.raises(errors.PdfInvalid):
        documents.embedded_xml(b"not a pdf at all")
    assert verifiers.embedded_xml_only(d.pdf, d.xml) == (True, [])
    assert verifiers.embedded_xml_only(other.pdf, d.xml) == (False, ["xml_mismatch"])
    assert verifiers.refuse_all(d.pdf, d.xml)[0] is False


def test_public_content_has_marks_as_printed_and_no_identity_numbers():
    content = documents.content(docs(year_record()).xml)
    toan = next(s for s in content["subjects"] if s["name"] == "Toán")
    assert (toan["hk1"], toan["hk2"], toan["year"]) == ("7,8", "8,3", "8,1")
    assert content["full_name"] == "Phạm Thị Ngọc Ánh" and content["class_name"] == "8A1"
    assert PERSONAL_ID not in repr(content) and "0123456789" not in repr(content)
    primary = documents.content(docs(primary_record(3, year_result="Hoàn thành")).xml)
    assert primary["year_result"] == "Hoàn thành"


def test_a_verifier_is_named_module_colon_function():
    assert verifiers.load("sandbox.gateway.verifiers:refuse_all") is verifiers.refuse_all
    with pytest.raises(ValueError):
        verifiers.load("sandbox.gateway.verifiers")
