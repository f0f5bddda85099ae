"""A học bạ and its year records, as the transcript service builds them and as the store reads them (pure data).

The stored rows (``Transcript``, ``YearRecordVersion``, ``ListedRecord``, ``LatestYear``) are frozen and slotted: a
row read in a transaction is a fact of that transaction, not something to edit in place. JSON documents kept as
JSONB (a version's signature plan and class header) stay plain lists and dicts: they are written from the
contracts' models and ``ClassHeader.stored`` and read back through ``ClassHeader.from_stored``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

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


@dataclass(frozen=True)
class StudentKeys:
    """What names a student across schools (a transfer's handover): the MOET code, and the keyed hashes of the
    personal ID (app/handover.py ``student_keys``); either matches."""

    moet_code: str | None
    personal_id_hashes: tuple[str, ...] = ()


def new_lookup_code() -> str:
    """32 lowercase hex characters from a UUID4: unguessable, and 122 random bits: no other student's in practice.

    A new code only for a student no school handed over here (``app.handover.lookup_code_for``): a transferred
    student's code is the same at every school, so no index could hold it unique.
    """
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
    # A term assessed by another school (a student who joined during the year carries it): that school's id and
    # printed name. None: this record's school assessed it.
    assessed_by: str | None = None
    assessed_by_name: str | None = None


@dataclass(frozen=True)
class SubjectLine:
    code: str
    name: str
    teacher_id: str
    teacher_name: str
    hk1: TermMarks | None
    hk2: TermMarks | None
    year: str | None
    # TT22 art. 14: the re-test result that replaces the year result after the summer; both are printed.
    year_after_retest: str | None = None
    # TT27 art. 11: a primary subject's supplementary assessment test (its level is year_after_retest).
    test_after_supplementary: int | None = None
    # TT22 art. 10: assessed against the student's individual education plan (kế hoạch giáo dục cá nhân).
    individual_plan: bool = False


@dataclass(frozen=True)
class PeriodResult:
    # "summer": the year's results again after the re-tests and summer training (TT22 art. 13-14), when there were any.
    period: Literal["hk1", "hk2", "year", "summer"]
    learning_result: str | None = None
    conduct: str | None = None
    absences: int | None = None
    homeroom_comment: str | None = None
    # Where the term was studied (id, printed name), written when the year was studied at more than one school.
    school: tuple[str, str] | None = None


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
    # TT27 art. 11: the qualities and competencies re-assessed after the summer (name → level), beside the year's.
    traits_after_supplementary: tuple[tuple[str, str], ...] = ()
    year_result: str | None = None
    promotion: str | None = None
    promotion_after_summer: str | None = None  # the decision taken again after the re-tests / summer training
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
    # How the province receives it: "regular" (30 June) or "supplementary" (15 August), as the gradebook decided.
    reporting_path: str = "regular"
    # The student's details the form prints (hocba-form.md); birth date and place are personal data: never logged.
    gender: str | None = None
    birth_place: str | None = None
    ethnicity: str | None = None
    register_number: str | None = None
    effective_date: date | None = None  # the cutoff of the record's reporting path (domain/effective.py)


@dataclass(frozen=True, slots=True)
class Transcript:
    """A học bạ as stored: one student's at one school and level, across its years (``lookup_code`` is public)."""

    id: str
    school_id: str
    student_id: str
    level: str
    lookup_code: str
    moet_code: str | None
    personal_id_enc: bytes | None  # sealed (services/runtime/data_key.py); opened only to print it
    effective_date: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class YearRecordVersion:
    """One version of a year record as stored: its documents by content address, its status, who signs it.

    A new version (after an amendment) supersedes the previous one; ``content_hash`` is of the source data, so a
    replayed lock finds the version it already built.
    """

    id: str
    transcript_id: str
    school_id: str
    class_id: str
    school_year: str
    version: int
    status: str  # a Status value
    content_hash: str
    xml_sha256: str
    pdf_sha256: str
    supersedes: str | None
    signature_plan: list[dict[str, Any]]  # SignatureStepV1 as JSON, as announced to signing
    header: dict[str, Any]  # ClassHeader.stored(): the lock's school and class facts
    created_at: datetime
    status_at: datetime


@dataclass(frozen=True, slots=True)
class ListedRecord:
    """A year record version as the school's list shows it: with its học bạ's student, lookup code and level."""

    record: YearRecordVersion
    lookup_code: str
    student_id: str
    level: str


@dataclass(frozen=True, slots=True)
class LatestYear:
    """A học bạ's latest year still standing (not superseded): what a transfer hands to the next school's chain."""

    school_year: str
    xml_sha256: str
