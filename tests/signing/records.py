"""A year record whose signers are the named people of the test PKI, rendered to its XML and PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.signing.domain.model import Plan, Step
from services.transcript.documents import pdf_form, xml_package
from services.transcript.domain.model import PeriodResult, SubjectLine, TermMarks, YearRecord, new_lookup_code
from services.transcript.domain.plan import plan_signatures

SCHOOL = ("s-thu-nghiem", "Trường THCS Thử Nghiệm")
TEACHER_A = ("gv-an", "Nguyễn Văn An")
TEACHER_B = ("gv-binh", "Trần Thị Bình")
PRINCIPAL = ("ht-cuong", "Lê Văn Cường")


def year_record(**changes: object) -> YearRecord:
    subjects = (
        SubjectLine(
            "toan",
            "Toán",
            TEACHER_A[0],
            TEACHER_A[1],
            TermMarks(("8", "7.5", "9", "6"), "7", "8.5", "7.8"),
            TermMarks(("9", "8", "8", "7"), "8", "9", "8.3"),
            "8.1",
        ),
        SubjectLine(
            "ngu_van",
            "Ngữ văn",
            TEACHER_B[0],
            TEACHER_B[1],
            TermMarks(("6", "7", "8", "7.5"), "6.5", "7", "6.9"),
            TermMarks(("8", "8", "9", "7"), "7.5", "8.5", "8.1"),
            "7.7",
        ),
    )
    record = YearRecord(
        lookup_code=new_lookup_code(),
        transcript_id="hb-1",
        year_record_id="yr-1",
        version=1,
        school_id=SCHOOL[0],
        school_name=SCHOOL[1],
        school_level="lower_secondary",
        school_province="Hà Nội",
        student_id="st-1",
        moet_code="0123456789",
        full_name="Phạm Thị Ngọc Ánh",
        school_year="2025-2026",
        class_name="8A1",
        grade=8,
        circular="tt22",
        subjects=subjects,
        periods=(PeriodResult("hk1", "Khá", "Tốt", 2), PeriodResult("year", "Khá", "Tốt", 3)),
        promotion="lên lớp",
        signature_plan=plan_signatures(subjects, TEACHER_B, PRINCIPAL, SCHOOL),
        lookup_url="https://tracuu.example.vn/hocba/x",
        gender="Nữ",
        birth_date=date(2011, 7, 13),
        birth_place="Phường Cửa Nam, Hà Nội",
        ethnicity="Kinh",
        register_number="017/2023",
        effective_date=date(2026, 6, 30),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


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
    subjects = (
        SubjectLine(
            "tieng_viet",
            "Tiếng Việt",
            TEACHER_A[0],
            TEACHER_A[1],
            TermMarks(level="T", test=9),
            TermMarks(level="T", test=10),
            "T",
        ),
        SubjectLine(
            "dao_duc", "Đạo đức", TEACHER_B[0], TEACHER_B[1], TermMarks(level="H"), TermMarks(level="T"), "T"
        ),
    )
    record = replace(
        year_record(),
        school_level="primary",
        grade=4,
        circular="tt27",
        class_name="4B",
        subjects=subjects,
        qualities=(("cham_chi", "T"),),
        competencies=(("tu_chu_tu_hoc", "Đ"),),
        year_result="Hoàn thành",
        signature_plan=plan_signatures(subjects, TEACHER_B, PRINCIPAL, SCHOOL),
    )
    return replace(record, **changes)  # type: ignore[arg-type]
