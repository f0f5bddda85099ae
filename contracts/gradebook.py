"""Events the gradebook service emits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from contracts.envelope import ContractModel, EventModel

Term = Literal["hk1", "hk2"]
Circular = Literal["tt22", "tt27"]


class SubjectTeacher(ContractModel):
    subject_code: str = Field(description="Subject code (CT GDPT 2018), e.g. toan, ngu_van")
    subject_name: str = Field(description="Subject name as printed, e.g. Toán")
    teacher_id: str = Field(description="Opaque id of the teacher assigned to the subject in this class")
    teacher_name: str = Field(description="Teacher's full name, printed beside the subject")


class SubjectResult(ContractModel):
    subject_code: str = Field(description="Subject code")
    scores: dict[str, list[str | Decimal] | str | Decimal | int | None] = Field(
        default_factory=dict, description="Raw assessments by kind (regular, midterm, final, level, test)"
    )
    result: str | Decimal | None = Field(None, description="Term (or year) result: an average, Đ/CĐ or T/H/C")
    comment: str | None = Field(None, description="Subject teacher's comment")


class StudentRecord(ContractModel):
    student_id: str = Field(description="Opaque student id (never the personal identification number)")
    moet_code: str | None = Field(None, description="Ministry student code, opaque")
    full_name: str = Field(description="Student's full name")
    subjects: list[SubjectResult] = Field(default_factory=list, description="One entry per subject")
    learning_result: str | None = Field(None, description="Kết quả học tập / year-end result level")
    conduct: str | None = Field(None, description="Kết quả rèn luyện (TT22) or qualities summary (TT27)")
    homeroom_comment: str | None = Field(None, description="Homeroom teacher's comment")
    absences: int | None = Field(None, description="Sessions (buổi) missed")


class ClassSnapshot(ContractModel):
    students: list[StudentRecord] = Field(description="Every student of the class at lock time")
    subjects: list[SubjectTeacher] = Field(description="Every subject taught in the class, with its teacher")
    homeroom_teacher_id: str | None = Field(None, description="Opaque id of the homeroom teacher")
    content_hash: str = Field(description="sha256 (hex) of the canonical JSON of students and subjects")


class TermLockedPublic(ContractModel):
    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    school_year: str = Field(description="School year, e.g. 2025-2026")
    term: Term = Field(description="hk1 or hk2 (hk2 also closes the year)")
    locked_at: datetime = Field(description="When the principal locked the term")
    student_count: int = Field(description="Number of students in the locked snapshot")
    content_hash: str = Field(description="sha256 of the locked snapshot")


class TermLockedV1(EventModel):
    """The principal locked a term for a class: the full, frozen snapshot of its results."""

    EVENT_NAME: ClassVar[str] = "gradebook.term.locked"

    school_id: str = Field(description="Opaque school id (the tenant)")
    class_id: str = Field(description="Opaque class id")
    class_name: str = Field(description="Class name as printed, e.g. 8A1")
    grade: int = Field(ge=1, le=12, description="Grade 1–12")
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$", description="School year, e.g. 2025-2026")
    term: Term = Field(description="hk1 or hk2 (hk2 also closes the year)")
    circular: Circular = Field(description="tt27 for primary, tt22 for secondary")
    locked_by: str = Field(description="Opaque id of the principal who locked")
    locked_at: datetime = Field(description="When the term was locked")
    snapshot: ClassSnapshot = Field(description="Everything locked, as the transcript must print it")

    def public_view(self) -> BaseModel:
        return TermLockedPublic(
            school_id=self.school_id,
            class_id=self.class_id,
            school_year=self.school_year,
            term=self.term,
            locked_at=self.locked_at,
            student_count=len(self.snapshot.students),
            content_hash=self.snapshot.content_hash,
        )
