"""The year record as an XML package valid against contracts/transcript/hocba-transcript-1.xsd (canonical bytes)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import cast

from lxml import etree

from services.transcript.domain.errors import InternalFault
from services.transcript.domain.model import TermMarks, YearRecord

NS = "urn:hocba:transcript:1"
XSD = Path(__file__).resolve().parents[3] / "contracts" / "transcript" / "hocba-transcript-1.xsd"


class InvalidPackage(InternalFault):
    """The XML does not validate against the schema: a bug or bad data, never silently shipped.

    Permanent: the same record builds the same bytes. The service's fault at its HTTP edge, since the digitised
    route's request model is where a clerk's input is refused (422) before any XML is built.
    """


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _el(parent: etree._Element, tag: str, text: object | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: v for k, v in attrs.items()})
    if text is not None:
        node.text = str(text)
    return node


def _opt(parent: etree._Element, name: str, value: object | None) -> None:
    if value is not None and value != "":
        _el(parent, name, value)


def _term(parent: etree._Element, term: str, marks: TermMarks) -> None:
    node = _el(parent, "Term", term=term)
    if marks.assessed_by is not None:  # another school's term, carried: whose it is
        node.set("assessedBy", marks.assessed_by)
        node.set("assessedByName", marks.assessed_by_name or marks.assessed_by)
    for regular in marks.regular:
        _el(node, "Regular", regular)
    fields: tuple[tuple[str, object | None], ...] = (
        ("Midterm", marks.midterm),
        ("Final", marks.final),
        ("Average", marks.average),
        ("Level", marks.level),
        ("Test", marks.test),
        ("Result", marks.result),
        ("Comment", marks.comment),
    )
    for name, value in fields:
        _opt(node, name, value)


def build(record: YearRecord) -> bytes:
    """Same record → same bytes (canonical XML, C14N 2.0); raises InvalidPackage if the schema refuses it."""
    root = etree.Element(f"{{{NS}}}YearRecord", nsmap={None: NS}, schemaVersion="1")
    identity = _el(root, "Identity")
    _el(identity, "LookupCode", record.lookup_code)
    _el(identity, "TranscriptId", record.transcript_id)
    _el(identity, "YearRecordId", record.year_record_id)
    _el(identity, "Version", record.version)
    _opt(identity, "Supersedes", record.supersedes)
    _opt(identity, "PreviousRecordSha256", record.previous_record_sha256)
    if record.digitised_from is not None:
        _el(_el(identity, "Digitised"), "Source", record.digitised_from)
    _opt(identity, "EffectiveDate", record.effective_date and record.effective_date.isoformat())
    school = _el(root, "School")
    _el(school, "Id", record.school_id)
    _el(school, "Name", record.school_name)
    _el(school, "Level", record.school_level)
    _opt(school, "Province", record.school_province)
    student = _el(root, "Student")
    _el(student, "Id", record.student_id)
    _opt(student, "MoetCode", record.moet_code)
    _opt(student, "PersonalId", record.personal_id)
    _el(student, "FullName", record.full_name)
    _opt(student, "BirthDate", record.birth_date.isoformat() if record.birth_date else None)
    _opt(student, "Gender", record.gender)
    _opt(student, "BirthPlace", record.birth_place)
    _opt(student, "Ethnicity", record.ethnicity)
    _opt(student, "RegisterNumber", record.register_number)
    klass = _el(root, "Class")
    _el(klass, "SchoolYear", record.school_year)
    _el(klass, "Name", record.class_name)
    _el(klass, "Grade", record.grade)
    _el(klass, "Circular", record.circular)
    subjects = _el(root, "Subjects")
    for line in record.subjects:
        node = _el(subjects, "Subject", code=line.code, teacherId=line.teacher_id)
        if line.individual_plan:  # TT22 art. 10: the values measure the plan's requirements
            node.set("individualPlan", "true")
        _el(node, "Name", line.name)
        _el(node, "Teacher", line.teacher_name)
        for term, marks in (("hk1", line.hk1), ("hk2", line.hk2)):
            if marks is not None:
                _term(node, term, marks)
        _opt(node, "Year", line.year)
        _opt(node, "YearAfterRetest", line.year_after_retest)
        _opt(node, "TestAfterSupplementary", line.test_after_supplementary)
    results = _el(root, "Results")
    for period in record.periods:
        node = _el(results, "Period", period=period.period)
        if period.school is not None:  # the year was studied at more than one school: where this term was
            node.set("schoolId", period.school[0])
            node.set("schoolName", period.school[1])
        _opt(node, "LearningResult", period.learning_result)
        _opt(node, "Conduct", period.conduct)
        _opt(node, "Absences", period.absences)
        _opt(node, "HomeroomComment", period.homeroom_comment)
    after = dict(record.traits_after_supplementary)  # TT27 art. 11: beside the year's level, never over it
    for tag, traits in (("Quality", record.qualities), ("Competency", record.competencies)):
        for name, value in traits:
            again = {"afterSupplementary": after[name]} if name in after else {}
            _el(results, tag, value, name=name, **again)
    _opt(results, "YearResult", record.year_result)
    _opt(results, "Promotion", record.promotion)
    _opt(results, "PromotionAfterSummer", record.promotion_after_summer)
    _opt(results, "Award", record.award)
    plan = _el(root, "SignaturePlan")
    for step in record.signature_plan:
        node = _el(plan, "Step", order=str(step.order), role=step.role, field=step.field_name)
        _el(node, "SignerId", step.signer_id)
        _el(node, "SignerName", step.signer_name)
        for covered in step.covers:
            _el(node, "Covers", covered)
        _opt(node, "OnBehalfOf", step.on_behalf_of)
    _el(root, "LookupUrl", record.lookup_url)
    validate(root)
    return cast(bytes, etree.tostring(root, method="c14n2"))


def validate(document: etree._Element | bytes) -> etree._Element:
    root = etree.fromstring(document) if isinstance(document, bytes) else document
    if not schema().validate(root):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema().error_log)[:5])
        raise InvalidPackage(f"year record does not match the XSD: {errors}")
    return root
