"""A year record whose signers are the named people of the test PKI, rendered to its XML and PDF."""

from __future__ import annotations

from services.signing.domain.model import Plan, Step
from services.transcript.documents import pdf_form, xml_package
from services.transcript.domain.model import YearRecord
from tests import factories

SCHOOL = ("s-thu-nghiem", "Trường THCS Thử Nghiệm")
TEACHER_A = ("gv-an", "Nguyễn Văn An")
TEACHER_B = ("gv-binh", "Trần Thị Bình")
PRINCIPAL = ("ht-cuong", "Lê Văn Cường")
BIRTH_PLACE = "Phường Cửa Nam, Hà Nội"


def year_record(school: tuple[str, str] = SCHOOL, **changes: object) -> YearRecord:
    """Signed by the test PKI's people; at another ``school`` than SCHOOL, sealed by a seal certified for it
    (signed.seal_identity)."""
    return factories.year_record(
        factories.secondary_subjects(TEACHER_A, TEACHER_B, physical_education=False),
        homeroom=TEACHER_B,
        principal=PRINCIPAL,
        school=school,
        **{"birth_place": BIRTH_PLACE, **changes},
    )


def documents(record: YearRecord | None = None) -> tuple[bytes, bytes, Plan]:
    record = record or year_record()
    xml = xml_package.build(record)
    plan = Plan(
        tuple(
            Step(s.order, s.role, s.field_name, s.signer_id, s.signer_name, tuple(s.covers), s.on_behalf_of)
            for s in record.signature_plan
        )
    )
    return xml, pdf_form.render(xml), plan


def primary_year_record(**changes: object) -> YearRecord:
    """A TT27 (primary) year record signed by the same people: levels and tests, qualities and competencies."""
    return factories.primary_year_record(
        factories.primary_subjects(TEACHER_A, TEACHER_B),
        homeroom=TEACHER_B,
        principal=PRINCIPAL,
        school=SCHOOL,
        **{"birth_place": BIRTH_PLACE, **changes},
    )
