"""Reading what schools send: the XML year record (XSD, identity, printable content) and the PDF's hocba.xml."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from sandbox.gateway.domain import disclosure, errors

NS = {"h": "urn:hocba:transcript:1"}
# The published contract, read from the repository like any other party to it would (no import of our services).
XSD = Path(__file__).resolve().parents[2] / "contracts" / "transcript" / "hocba-transcript-1.xsd"
EMBEDDED_NAME = "hocba.xml"


@dataclass(frozen=True)
class Identity:
    """What the gateway files a year record under, read from the XML itself (never trusted from the body)."""

    lookup_code: str
    transcript_id: str
    year_record_id: str
    version: int
    school_id: str
    student_id: str
    school_year: str
    grade: int


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _parse(xml: bytes) -> etree._Element:
    # No network, no entities: the body comes from outside.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(xml, parser)


def read_identity(xml: bytes) -> Identity:
    """Validate against the XSD and pull the identity out; any failure is ``xsd_invalid``."""
    try:
        root = _parse(xml)
    except etree.XMLSyntaxError as error:
        raise errors.XsdInvalid(f"XML không đọc được: {error.msg}.") from None
    schema = _schema()
    if not schema.validate(root):
        first = list(schema.error_log)[:3]
        where = "; ".join(f"dòng {e.line}: {e.message}" for e in first)
        raise errors.XsdInvalid(
            f"XML không hợp lệ theo lược đồ hocba-transcript-1.xsd ({where}).",
            errors=[{"line": e.line, "message": e.message} for e in first],
        )

    def text(path: str) -> str:
        return root.findtext(path, namespaces=NS) or ""

    return Identity(
        lookup_code=text("h:Identity/h:LookupCode"),
        transcript_id=text("h:Identity/h:TranscriptId"),
        year_record_id=text("h:Identity/h:YearRecordId"),
        version=int(text("h:Identity/h:Version")),
        school_id=text("h:School/h:Id"),
        student_id=text("h:Student/h:Id"),
        school_year=text("h:Class/h:SchoolYear"),
        grade=int(text("h:Class/h:Grade")),
    )


def peek(xml: bytes) -> tuple[str | None, int | None]:
    """Year record id and version without validation: lets a rejection be counted against its year record."""
    try:
        root = _parse(xml)
        version = root.findtext("h:Identity/h:Version", namespaces=NS)
        return root.findtext("h:Identity/h:YearRecordId", namespaces=NS), int(version) if version else None
    except (etree.XMLSyntaxError, ValueError):
        return None, None


def embedded_xml(pdf: bytes) -> bytes:
    """The bytes of the PDF's embedded ``hocba.xml``; a PDF without it cannot match any XML."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
    except (PyPdfError, ValueError, KeyError, TypeError) as error:
        raise errors.PdfInvalid(f"Tệp PDF không đọc được ({type(error).__name__}).") from None
    found = attachments.get(EMBEDDED_NAME)
    if not found:
        raise errors.XmlMismatch(f"Tệp PDF không có tệp đính kèm {EMBEDDED_NAME}.")
    return bytes(found[0])


def check_embedded_xml(pdf: bytes, xml: bytes) -> None:
    if embedded_xml(pdf) != xml:
        raise errors.XmlMismatch(f"Tệp {EMBEDDED_NAME} đính kèm trong PDF khác với XML đã gửi.")


def _decimal_comma(value: str) -> str:
    """Marks as printed on the form (7,8, not 7.8), so a reader compares like with like."""
    return value.replace(".", ",") if value[:1].isdigit() else value


def birth_date(xml: bytes) -> date | None:
    """The student's date of birth as the record states it (None when the record has none)."""
    text = _parse(xml).findtext("h:Student/h:BirthDate", namespaces=NS)
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def content(xml: bytes) -> dict[str, Any]:
    """What the public page shows, read from the XML: what the paper shows, but the personal ID masked and the
    birth date and the MOET code left out (Law 91/2025: the page is public to anyone holding the code; a reader
    checks marks, not identity numbers). No part of the birth date: it is the second factor for the signed PDF,
    and a shown year would leave at most 366 guesses."""
    root = _parse(xml)

    def text(node: etree._Element | None, path: str) -> str:
        return "" if node is None else (node.findtext(path, namespaces=NS) or "")

    subjects = []
    for subject in root.iterfind("h:Subjects/h:Subject", NS):
        terms = {t.get("term"): t for t in subject.iterfind("h:Term", NS)}

        def mark(term: str, _terms: dict[Any, etree._Element] = terms) -> str:
            node = _terms.get(term)
            parts = [text(node, f"h:{f}") for f in ("Average", "Level", "Result")]
            test = text(node, "h:Test")
            shown = _decimal_comma(next((p for p in parts if p), ""))
            return f"{shown} (KTĐK: {test})" if test else shown

        subjects.append(
            {
                "name": text(subject, "h:Name"),
                "teacher": text(subject, "h:Teacher"),
                "hk1": mark("hk1"),
                "hk2": mark("hk2"),
                "year": " → ".join(
                    _decimal_comma(v)
                    for v in (text(subject, "h:Year"), text(subject, "h:YearAfterRetest"))
                    if v
                ),
            }
        )
    periods = [
        {
            "period": p.get("period"),
            "learning": text(p, "h:LearningResult"),
            "conduct": text(p, "h:Conduct"),
            "absences": text(p, "h:Absences"),
        }
        for p in root.iterfind("h:Results/h:Period", NS)
    ]
    results = root.find("h:Results", NS)
    return {
        "school_name": text(root, "h:School/h:Name"),
        "province": text(root, "h:School/h:Province"),
        "school_year": text(root, "h:Class/h:SchoolYear"),
        "class_name": text(root, "h:Class/h:Name"),
        "grade": text(root, "h:Class/h:Grade"),
        "full_name": text(root, "h:Student/h:FullName"),
        "personal_id_masked": disclosure.mask_personal_id(text(root, "h:Student/h:PersonalId")),
        "subjects": subjects,
        "periods": periods,
        "qualities": [
            disclosure.trait(disclosure.QUALITY_NAMES, q.get("name") or "", q.text or "")
            for q in root.iterfind("h:Results/h:Quality", NS)
        ],
        "competencies": [
            disclosure.trait(disclosure.COMPETENCY_NAMES, c.get("name") or "", c.text or "")
            for c in root.iterfind("h:Results/h:Competency", NS)
        ],
        "year_result": text(results, "h:YearResult"),
        "promotion": text(results, "h:Promotion"),
        "promotion_after_summer": text(results, "h:PromotionAfterSummer"),
        "award": text(results, "h:Award"),
    }
