"""Request models of the transcript service's HTTP API."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.runtime.openapi import Route

# What XML 1.0 cannot hold (control characters but tab and line breaks, lone surrogates, U+FFFE/U+FFFF): the
# record is printed into the học bạ's XML, so such text is the caller's 422, not lxml's ValueError (a 500).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _fits_in_xml(cls, value: object) -> object:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and _NOT_XML.search(text):
                raise ValueError("chứa ký tự điều khiển không được phép trong học bạ")
        return value


class Person(Strict):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class DepartedPerson(Person):
    left: bool = Field(False, description="Has left the school: the principal signs in their place")


class StudentIn(Strict):
    student_id: str = Field(min_length=1, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    moet_code: str | None = Field(None, max_length=64)
    personal_id: str | None = Field(None, pattern=r"^\d{12}$")


class TermIn(Strict):
    regular: list[str] = Field(default_factory=list, max_length=4)
    midterm: str | None = None
    final: str | None = None
    average: str | None = None
    level: Literal["T", "H", "C"] | None = None
    test: int | None = Field(None, ge=1, le=10)
    result: Literal["Đ", "CĐ"] | None = None
    comment: str | None = Field(None, max_length=2000)


class SubjectIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    teacher: DepartedPerson
    hk1: TermIn | None = None
    hk2: TermIn | None = None
    year: str | None = Field(None, max_length=16)


class PeriodIn(Strict):
    learning_result: str | None = None
    conduct: str | None = None
    absences: int | None = Field(None, ge=0, le=365)
    homeroom_comment: str | None = Field(None, max_length=2000)


class DigitisedRecordIn(Strict):
    """A year of a paper học bạ, typed in by the school's clerk from the scan."""

    source: str = Field(
        min_length=3, max_length=300, description="Where on paper, e.g. sổ đăng bộ 12, trang 3"
    )
    student: StudentIn
    school_name: str = Field(min_length=1, max_length=200)
    school_province: str | None = Field(None, max_length=100)
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$", description="Two consecutive years: 2024-2025")
    class_name: str = Field(min_length=1, max_length=32)
    grade: int = Field(ge=1, le=12)
    subjects: list[SubjectIn] = Field(min_length=1, max_length=30)
    periods: dict[Literal["hk1", "hk2", "year"], PeriodIn] = Field(default_factory=dict)
    year_result: str | None = None
    promotion: str | None = None
    award: str | None = None
    homeroom: DepartedPerson
    principal: Person

    # The record's effective date is the cutoff of the year's second calendar year: it must be one (0000-0000
    # passed the pattern and made date() fail: a 500).
    @field_validator("school_year")
    @classmethod
    def _consecutive_years(cls, value: str) -> str:
        first, second = (int(year) for year in value.split("-"))
        if not (1945 <= first <= 2100 and second == first + 1):
            raise ValueError("năm học phải là hai năm liền nhau, ví dụ 2024-2025")
        return value


# The routes for users (the OpenAPI document is generated from them). GET /documents/{sha256} is not among them:
# it takes only another service's token (scope documents:read), never a user's.
ROUTES = [
    Route(
        "GET",
        "/schools/{school_id}/records",
        "The school's year records with their status (?student=, ?code=)",
        None,
        ("principal", "staff", "inspector", "teacher", "homeroom"),
        description="Principal, staff and inspector see every record of their school; a teacher (subject or "
        "homeroom) sees the records of the classes whose year names them.",
    ),
    Route(
        "POST",
        "/schools/{school_id}/records/digitised",
        "Enter an earlier year from a scanned paper học bạ",
        DigitisedRecordIn,
        ("staff", "principal"),
    ),
    Route(
        "GET",
        "/records/{record_id}/{kind}",
        "A year record's unsigned document (`kind`: pdf or xml)",
        None,
        ("principal", "staff", "inspector", "teacher", "homeroom"),
        description="A teacher downloads only the records of the classes whose year names them.",
    ),
]
