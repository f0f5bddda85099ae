"""Read the embedded year record (``urn:hocba:transcript:1``): its signature plan and what the page must print.

Parsed here with lxml rather than through the transcript service's code: the verifier also runs at the province
gateway, and services talk only through contracts (the XSD is the contract).
"""

from __future__ import annotations

from lxml import etree

from services.signing.domain.model import Plan, Step
from services.signing.verifier.model import RecordFacts, SubjectLine, Unreadable

NS = "urn:hocba:transcript:1"
_NS = {"h": NS}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
ROLES = ("subject_teacher", "homeroom_teacher", "principal", "school_seal")


def _text(node: etree._Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path, _NS)
    return (found.text or "").strip() if found is not None else ""


def shown(value: str) -> str:
    """How the page prints a mark: a decimal comma (the renderer's rule)."""
    return value.replace(".", ",") if value and value[0].isdigit() else value


def shown_date(value: str) -> str:
    """How the page prints a date: 2011-07-13 → 13/07/2011 (the renderer's rule)."""
    return "/".join(reversed(value.split("-"))) if value else ""


# (label on the page, path in the record, how the page shows it): what the form prints about the student and the
# record. Labels are the renderer's, so a record whose page lost or changed one of these values fails the check.
DETAILS = (
    ("Giới tính", "h:Student/h:Gender", str),
    ("Ngày sinh", "h:Student/h:BirthDate", shown_date),
    ("Nơi sinh", "h:Student/h:BirthPlace", str),
    ("Dân tộc", "h:Student/h:Ethnicity", str),
    ("Số đăng bộ", "h:Student/h:RegisterNumber", str),
    ("Mã định danh (Bộ GD&ĐT)", "h:Student/h:MoetCode", str),
    ("Số định danh cá nhân", "h:Student/h:PersonalId", str),
    ("Ngày hiệu lực", "h:Identity/h:EffectiveDate", shown_date),
    ("Phiên bản", "h:Identity/h:Version", str),
    ("Thay thế bản", "h:Identity/h:Supersedes", str),
    # The principal's award (khen thưởng), printed in the year's outcome line: a page that drops or changes it
    # while the XML keeps it disagrees.
    ("Khen thưởng", "h:Results/h:Award", str),
)


def _details(root: etree._Element) -> tuple[tuple[str, str], ...]:
    found = tuple((label, show(_text(root, path))) for label, path, show in DETAILS if _text(root, path))
    # The subjects assessed against the student's individual education plan (TT22 art. 10), named in the year's
    # remarks: a page that hides the plan while the XML keeps it disagrees.
    planned = [
        _text(s, "h:Name")
        for s in root.iterfind("h:Subjects/h:Subject", _NS)
        if s.get("individualPlan") in ("true", "1")
    ]
    if planned:
        found += (("Ghi chú", f"Học theo kế hoạch giáo dục cá nhân (môn {', '.join(planned)})."),)
    return found


def _subject(subject: etree._Element) -> SubjectLine:
    terms = {t.get("term"): t for t in subject.iterfind("h:Term", _NS)}
    values: list[str] = []
    for term in ("hk1", "hk2"):
        node = terms.get(term)
        values.append(_text(node, "h:Average") or _text(node, "h:Result") or _text(node, "h:Level"))
    after = _text(subject, "h:YearAfterRetest")
    level = _text(terms.get("hk2"), "h:Level")
    if level and after:
        # TT27 art. 11: the level after the supplementary assessment is printed beside the end-of-year one ("C / H").
        values.append(after)
    values.append(_text(terms.get("hk2"), "h:Test"))
    values.append(_text(subject, "h:TestAfterSupplementary"))  # printed beside the end-of-year test ("4 / 6")
    year = _text(subject, "h:Year")
    # The primary form has no year column: TT27's year level is the end-of-year one, printed under "Cuối năm". A
    # year that differs from it must still be on the page, so a record claiming otherwise fails the comparison.
    if not year or year != level:
        values.append(year)
    if not level:
        values.append(after)  # printed after the year result ("4,5 / 6,5")
    return SubjectLine(_text(subject, "h:Name"), tuple(shown(v) for v in values if v))


def parse_plan(root: etree._Element) -> Plan:
    steps = []
    for node in root.iterfind("h:SignaturePlan/h:Step", _NS):
        order, role, field = node.get("order", ""), node.get("role", ""), node.get("field", "")
        if not order.isdigit() or role not in ROLES or not field:
            raise Unreadable(
                f"signature plan step is malformed: order={order!r} role={role!r} field={field!r}"
            )
        steps.append(
            Step(
                int(order),
                role,  # type: ignore[arg-type]
                field,
                _text(node, "h:SignerId"),
                _text(node, "h:SignerName"),
                tuple((c.text or "") for c in node.iterfind("h:Covers", _NS)),
                _text(node, "h:OnBehalfOf") or None,
            )
        )
    try:
        return Plan(tuple(sorted(steps, key=lambda s: s.order)))
    except ValueError as error:
        raise Unreadable(f"signature plan is invalid: {error}") from None


def parse_record(xml: bytes) -> RecordFacts:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        raise Unreadable(f"embedded XML is not well-formed: {error}") from None
    if root.tag != f"{{{NS}}}YearRecord":
        raise Unreadable(f"embedded XML is not a year record ({root.tag})")
    return RecordFacts(
        plan=parse_plan(root),
        school_name=_text(root, "h:School/h:Name"),
        student_name=_text(root, "h:Student/h:FullName"),
        class_name=_text(root, "h:Class/h:Name"),
        school_year=_text(root, "h:Class/h:SchoolYear"),
        subjects=tuple(_subject(s) for s in root.iterfind("h:Subjects/h:Subject", _NS)),
        details=_details(root),
    )
