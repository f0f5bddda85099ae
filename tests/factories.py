"""Test data built in one place: year records (a lower-secondary TT22 page and a primary TT27 page) and the
gradebook's term lock as its consumers receive it.

Each suite names its own people (the signing tests the test PKI's, the gateway tests a random student) and changes
any field by keyword; what every suite shares — the marks, the periods, the student's details — is written once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from contracts.gradebook import ClassSnapshot, StudentRecord, SubjectResult, SubjectTeacher, TermLockedV1
from services.transcript.domain.model import PeriodResult, SubjectLine, TermMarks, YearRecord, new_lookup_code
from services.transcript.domain.plan import plan_signatures

Person = tuple[str, str]  # (id, full name); a school is (id, name) too

MATHS_TEACHER = ("gv1", "Nguyễn Thị Hằng")
LITERATURE_TEACHER = ("gv2", "Trần Quốc Việt")
HOMEROOM = ("gv3", "Lê Thu Hà")
PRINCIPAL = ("ht", "Đỗ Văn Hiệu")
SCHOOL = ("s1", "Trường THCS Nguyễn Du")
PRIMARY_TEACHER = ("gv7", "Hoàng Minh Đức")


def secondary_subjects(
    first: Person = MATHS_TEACHER, second: Person = LITERATURE_TEACHER, *, physical_education: bool = True
) -> tuple[SubjectLine, ...]:
    """Toán and Ngữ văn (marks), and Giáo dục thể chất (pass/fail) taught by the first teacher."""
    lines = (
        SubjectLine(
            "toan",
            "Toán",
            *first,
            TermMarks(("8", "7.5", "9", "6"), "7", "8.5", "7.8"),
            TermMarks(("9", "8", "8", "7"), "8", "9", "8.3"),
            "8.1",
        ),
        SubjectLine(
            "ngu_van",
            "Ngữ văn",
            *second,
            TermMarks(("6", "7", "8", "7.5"), "6.5", "7", "6.9"),
            TermMarks(("8", "8", "9", "7"), "7.5", "8.5", "8.1"),
            "7.7",
        ),
    )
    if not physical_education:
        return lines
    return (
        *lines,
        SubjectLine("gdtc", "Giáo dục thể chất", *first, TermMarks(result="Đ"), TermMarks(result="Đ"), "Đ"),
    )


def primary_subjects(
    first: Person = PRIMARY_TEACHER, second: Person = PRIMARY_TEACHER
) -> tuple[SubjectLine, ...]:
    """Tiếng Việt (level and test) and Đạo đức (level only)."""
    return (
        SubjectLine(
            "tieng_viet",
            "Tiếng Việt",
            *first,
            TermMarks(level="T", test=9),
            TermMarks(level="T", test=10),
            "T",
        ),
        SubjectLine("dao_duc", "Đạo đức", *second, TermMarks(level="H"), TermMarks(level="T"), "T"),
    )


def year_record(
    subjects: tuple[SubjectLine, ...] | None = None,
    /,
    *,
    homeroom: Person = HOMEROOM,
    principal: Person = PRINCIPAL,
    school: Person = SCHOOL,
    **changes: Any,
) -> YearRecord:
    """A grade 8 (TT22) year record at ``school``, signed by its subject teachers, ``homeroom`` and ``principal``,
    then sealed by the school; ``changes`` replace any field (``subjects=`` among them replaces the lines but keeps
    the signature plan drawn from the first argument's)."""
    subjects = secondary_subjects() if subjects is None else subjects
    record = YearRecord(
        lookup_code=new_lookup_code(),
        transcript_id="hb-1",
        year_record_id="yr-1",
        version=1,
        school_id=school[0],
        school_name=school[1],
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
        signature_plan=plan_signatures(subjects, homeroom, principal, school),
        lookup_url="https://tracuu.example.vn/hocba/x",
        gender="Nữ",
        birth_date=date(2011, 7, 13),
        birth_place="Phường Thủ Dầu Một, Thành phố Hồ Chí Minh",
        ethnicity="Kinh",
        register_number="017/2023",
        effective_date=date(2026, 6, 30),
    )
    return replace(record, **changes)


def primary_year_record(
    subjects: tuple[SubjectLine, ...] | None = None,
    /,
    *,
    homeroom: Person = PRIMARY_TEACHER,
    principal: Person = PRINCIPAL,
    school: Person = SCHOOL,
    **changes: Any,
) -> YearRecord:
    """The same student's page in grade 4 (TT27): levels and tests, qualities and competencies, a year result."""
    subjects = primary_subjects() if subjects is None else subjects
    record = replace(
        year_record(homeroom=homeroom, principal=principal, school=school),
        school_level="primary",
        grade=4,
        circular="tt27",
        class_name="4B",
        subjects=subjects,
        qualities=(("cham_chi", "T"),),
        competencies=(("tu_chu_tu_hoc", "Đ"),),
        year_result="Hoàn thành",
        signature_plan=plan_signatures(subjects, homeroom, principal, school),
    )
    return replace(record, **changes)


def term_locked(snapshot: ClassSnapshot | None = None, **changes: Any) -> TermLockedV1:
    """The principal's lock of term II of class 9A at school s1, as gradebook publishes it; no students unless given
    ``snapshot``; any field changed by keyword."""
    fields: dict[str, Any] = {
        "school_id": "s1",
        "class_id": "c1",
        "class_name": "9A",
        "grade": 9,
        "school_year": "2025-2026",
        "term": "hk2",
        "circular": "tt22",
        "locked_by": "p1",
        "locked_at": datetime.now(UTC),
        "snapshot": snapshot or ClassSnapshot(students=[], subjects=[], content_hash="0" * 64),
    }
    return TermLockedV1(**(fields | changes))


def maths_class(
    student_ids: list[str], teacher: Person, *, content_hash: str = "0" * 64, **homeroom: str
) -> ClassSnapshot:
    """A class that studies Toán only (8.0 for the year) with ``teacher``; ``homeroom`` gives the
    ``homeroom_teacher_id`` / ``homeroom_teacher_name`` when the test needs one."""
    return ClassSnapshot(
        students=[
            StudentRecord(
                student_id=student_id,
                full_name="Ngô Thị Lan",
                subjects=[SubjectResult(subject_code="toan", year="8.0")],
            )
            for student_id in student_ids
        ],
        subjects=[
            SubjectTeacher(
                subject_code="toan", subject_name="Toán", teacher_id=teacher[0], teacher_name=teacher[1]
            )
        ],
        content_hash=content_hash,
        **homeroom,
    )


def digitised_year(
    school_year: str, grade: int, source: str, student_id: str = "hs-giay-1"
) -> dict[str, Any]:
    """The clerk's entry of one earlier year from a scanned paper học bạ (the body of POST …/records/digitised):
    Toán and Ngữ văn, one of whose teachers has left the school."""
    return {
        "source": source,
        "student": {
            "student_id": student_id,
            "full_name": "Bùi Thị Thu Trang",
            "moet_code": "7712345678",
            "personal_id": "001312345678",
        },
        "school_name": "Trường THCS Chu Văn An",
        "school_province": "Hà Nội",
        "school_year": school_year,
        "class_name": f"{grade}A",
        "grade": grade,
        "subjects": [
            {
                "code": "toan",
                "name": "Toán",
                "teacher": {"id": "gv-cu", "name": "Phan Văn Cũ", "left": True},
                "hk1": {"average": "7.5"},
                "hk2": {"average": "8.0"},
                "year": "7.8",
            },
            {
                "code": "ngu_van",
                "name": "Ngữ văn",
                "teacher": {"id": "gv-moi", "name": "Lê Thị Mới"},
                "hk1": {"average": "6.5"},
                "hk2": {"average": "7.0"},
                "year": "6.8",
            },
        ],
        "periods": {"year": {"learning_result": "Khá", "conduct": "Tốt", "absences": 2}},
        "promotion": "lên lớp",
        "homeroom": {"id": "gv-moi", "name": "Lê Thị Mới"},
        "principal": {"id": "ht-1", "name": "Đinh Văn Hiệu"},
    }


# `hocba bench peak --json` as issue 19 measured it before any work on it (40 grade-8 records): what `--compare` is
# tried against.
BENCH_PEAK_BEFORE_ISSUE_19 = {
    "students": 40,
    "schools": 4,
    "grade": 8,
    "workers": 1,
    "end_to_end": {"records_per_s": 0.361},
    "pipeline_signatures_per_s": 6.34,
    "baseline": {"signatures_per_s": 10.74},
    "ratio": 0.59,
    "ratio_end_to_end": 0.5,
    "projection": {"cpu_s_per_record": 2.03, "cores_from_cpu": 155},
    "stages": {"sealed": {"records_per_s": 0.4}},
    "processes": [{"name": "signing", "cpu_s": 43.2, "rss_mib": 191}],
}
