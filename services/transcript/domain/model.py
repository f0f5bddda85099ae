"""A học bạ and its year records, as the transcript service builds them (pure data, no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

Level = Literal["primary", "lower_secondary", "upper_secondary"]
SignerRole = Literal["subject_teacher", "homeroom_teacher", "principal", "school_seal"]


class Status(StrEnum):
    ASSEMBLED = "assembled"
    SIGNING = "signing"
    SEALED = "sealed"
    REPORTED = "reported"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"  # replaced before sealing: its signing is cancelled
    REPLACED = "replaced"  # replaced after sealing: sync decides whether the cutoff still allows it


# The order subjects are printed in on the Ministry's form (CT GDPT 2018); others (electives) follow.
FORM_ORDER = (
    "tieng_viet",
    "ngu_van",
    "toan",
    "ngoai_ngu_1",
    "dao_duc",
    "gdcd",
    "gd_ktpl",
    "tu_nhien_xa_hoi",
    "khoa_hoc",
    "lich_su_dia_li",
    "lich_su",
    "dia_li",
    "khtn",
    "vat_li",
    "hoa_hoc",
    "sinh_hoc",
    "cong_nghe",
    "tin_hoc",
    "tin_hoc_cong_nghe",
    "gdqp_an",
    "gdtc",
    "nghe_thuat",
    "am_nhac",
    "mi_thuat",
    "hdtn",
    "gddp",
)


def form_position(subject_code: str) -> tuple[int, str]:
    return (FORM_ORDER.index(subject_code) if subject_code in FORM_ORDER else len(FORM_ORDER), subject_code)


def level_of_grade(grade: int) -> Level:
    if grade <= 5:
        return "primary"
    return "lower_secondary" if grade <= 9 else "upper_secondary"


def new_lookup_code() -> str:
    """32 lowercase hex characters from a UUID4: unguessable, never reused (a unique index guards it)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class TermMarks:
    regular: tuple[str, ...] = ()
    midterm: str | None = None
    final: str | None = None
    average: str | None = None
    level: str | None = None
    test: int | None = None
    result: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class SubjectLine:
    code: str
    name: str
    teacher_id: str
    teacher_name: str
    hk1: TermMarks | None
    hk2: TermMarks | None
    year: str | None


@dataclass(frozen=True)
class PeriodResult:
    period: Literal["hk1", "hk2", "year"]
    learning_result: str | None = None
    conduct: str | None = None
    absences: int | None = None
    homeroom_comment: str | None = None


@dataclass(frozen=True)
class SignatureStep:
    order: int
    role: SignerRole
    field_name: str
    signer_id: str
    signer_name: str
    covers: tuple[str, ...] = ()
    on_behalf_of: str | None = None  # a departed teacher whose step the principal signs (digitised records)


@dataclass(frozen=True)
class YearRecord:
    """One student's school year: everything printed on the year's page, and who signs what."""

    lookup_code: str
    transcript_id: str
    year_record_id: str
    version: int
    school_id: str
    school_name: str
    school_level: Level
    school_province: str | None
    student_id: str
    moet_code: str | None
    full_name: str
    school_year: str
    class_name: str
    grade: int
    circular: str
    subjects: tuple[SubjectLine, ...]
    periods: tuple[PeriodResult, ...]
    qualities: tuple[tuple[str, str], ...] = ()
    competencies: tuple[tuple[str, str], ...] = ()
    year_result: str | None = None
    promotion: str | None = None
    award: str | None = None
    signature_plan: tuple[SignatureStep, ...] = field(default_factory=tuple)
    supersedes: str | None = None
    previous_record_sha256: str | None = None
    lookup_url: str = ""
    personal_id: str | None = None  # the 12-digit number: in the package and on the page, never in logs
    birth_date: date | None = (
        None  # printed on the page; the portal's second factor for the PDF, never in logs
    )
    digitised_from: str | None = None  # the paper source, for a record entered from a scanned học bạ
    # The student's details the form prints (hocba-form.md); birth date and place are personal data: never logged.
    gender: str | None = None
    birth_place: str | None = None
    ethnicity: str | None = None
    register_number: str | None = None
    effective_date: date | None = None  # the cutoff of the record's reporting path (domain/effective.py)
