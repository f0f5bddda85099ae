"""Events the gradebook service emits."""

from __future__ import annotations

from datetime import datetime
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


class TermMarks(ContractModel):
    regular: list[str] = Field(
        default_factory=list, description="Regular assessments (ĐĐGtx) as decimal text"
    )
    midterm: str | None = Field(None, description="Mid-term assessment (ĐĐGgk)")
    final: str | None = Field(None, description="End-of-term assessment (ĐĐGck)")
    result: str | None = Field(
        None, description="Comment-only subjects: Đ or CĐ; Miễn when the student is exempt for the term"
    )
    level: str | None = Field(None, description="Primary: T, H or C")
    test: int | None = Field(None, description="Primary periodic test score 1–10")
    midterm_test: int | None = Field(
        None, description="Primary grades 4–5, Tiếng Việt and Toán: mid-term test score 1–10 (TT27 art. 7)"
    )
    comment: str | None = Field(None, description="Subject teacher's comment")
    average: str | None = Field(
        None,
        description="Computed term average (ĐTBmhk) as decimal text, when complete; Miễn when the student is "
        "exempt for the term (miễn học, the principal's decision)",
    )
    assessed_by: str | None = Field(
        None,
        description="Opaque id of the school that assessed the term, when it is not the snapshot's school: a "
        "student who joined during the year carries the term from the previous school (chuyển trường), its result "
        "in average / result as that school's locked term gave it, with no assessments of its own",
    )
    assessed_by_name: str | None = Field(
        None, description="That school's name as printed on the học bạ, with assessed_by"
    )


class SubjectResult(ContractModel):
    subject_code: str = Field(description="Subject code")
    hk1: TermMarks | None = Field(None, description="Term I")
    hk2: TermMarks | None = Field(None, description="Term II (for primary: the end-of-year assessment)")
    year: str | None = Field(
        None,
        description="Year result: average (ĐTBmcn), Đ/CĐ or T/H/C, after term II; Miễn when exempt all year",
    )
    year_after_retest: str | None = Field(
        None,
        description="TT22 art. 14: the summer re-test result (score as decimal text, or Đ/CĐ) that replaces the "
        "year result after the re-test; primary (TT27 art. 11): the level after the supplementary assessment; the "
        "year result stays beside it",
    )
    summer: TermMarks | None = Field(
        None,
        description="Primary (TT27 art. 11): the supplementary assessment after the year (level, and test where the "
        "subject has one), kept beside hk2",
    )
    individual_plan: bool | None = Field(
        None,
        description="True when the student is assessed in this subject against an individual education plan (kế "
        "hoạch giáo dục cá nhân, TT22 art. 10): the values keep the subject's form but measure the plan's "
        "requirements, and the record says so; absent otherwise",
    )


class StudentTermRecord(ContractModel):
    conduct: str | None = Field(None, description="Kết quả rèn luyện (TT22): Tốt/Khá/Đạt/Chưa đạt")
    learning_result: str | None = Field(None, description="Kết quả học tập (TT22) computed for the period")
    absences: int | None = Field(None, description="Sessions (buổi) missed")
    homeroom_comment: str | None = Field(None, description="Homeroom teacher's comment")
    qualities: dict[str, str] = Field(default_factory=dict, description="TT27 qualities: T/Đ/C")
    competencies: dict[str, str] = Field(default_factory=dict, description="TT27 competencies: T/Đ/C")
    school_id: str | None = Field(
        None,
        description="Where the term was studied, when not at the snapshot's school (a student who joined during "
        "the year): the previous school's opaque id; its conduct and absences are that school's",
    )
    school_name: str | None = Field(None, description="That school's name as printed, with school_id")


class StudentAward(ContractModel):
    """The principal's award of a title for the school year (khen thưởng: TT22 art. 15, TT27 art. 13)."""

    kind: str = Field(description="xuat_sac, gioi (TT22) or tieu_bieu (TT27)")
    title: str = Field(description="The title as printed, e.g. Học sinh Xuất sắc")
    decided_by: str = Field(description="Opaque id of the principal who decided it")
    decided_at: datetime = Field(description="When the principal decided it")


class StudentRecord(ContractModel):
    student_id: str = Field(description="Opaque student id (never the personal identification number)")
    moet_code: str | None = Field(None, description="Ministry student code, opaque")
    personal_id_enc: str | None = Field(
        None,
        description="12-digit personal ID, AES-GCM encrypted under the platform data key (base64); never clear",
    )
    full_name: str = Field(description="Student's full name")
    roll_number: int | None = Field(None, description="Number in the class list")
    # Printed on the học bạ (hocba-form.md); optional, so events from before they existed still parse.
    gender: str | None = Field(None, description="Giới tính as printed: Nam or Nữ")
    personal_details_enc: str | None = Field(
        None,
        description="JSON {birth_date (ISO), birth_place, ethnicity}, AES-GCM encrypted under the platform data key "
        "(associated data 'personal_details', base64); never clear",
    )
    register_number: str | None = Field(None, description="Số đăng bộ: the student's number in the register")
    subjects: list[SubjectResult] = Field(default_factory=list, description="One entry per subject")
    hk1: StudentTermRecord | None = Field(None, description="Term I record")
    hk2: StudentTermRecord | None = Field(None, description="Term II record")
    summer: StudentTermRecord | None = Field(
        None,
        description="After the year: the conduct after summer training (TT22 art. 13), or the qualities and "
        "competencies re-assessed in the supplementary assessment (TT27 art. 11), beside hk2's",
    )
    year: dict[str, str | None] = Field(
        default_factory=dict,
        description="Year results: learning_result, conduct, year_result, promotion, award, retest_subjects, "
        "absences, reporting_path, completion; after the summer (TT22 art. 12–14) also "
        "learning_result_after_retest, conduct_after_summer and promotion_after_retest, beside the year-end ones; "
        "for a primary pupil not complete (TT27 art. 11) year_result_after_supplementary, "
        "completion_after_supplementary and promotion_after_supplementary. "
        "award is the title the results allow (the rules' value); what the principal gave is in awards",
    )
    awards: list[StudentAward] | None = Field(
        None,
        description="The principal's awards for the year (at most one title), decided before the year's lock; "
        "absent (null) from producers that predate recorded awards, an empty list when none was given",
    )


class ClassSnapshot(ContractModel):
    """Internal only (names and results): the public projection carries counts and hashes."""

    students: list[StudentRecord] = Field(description="Every student of the class at lock time")
    subjects: list[SubjectTeacher] = Field(description="Every subject taught in the class, with its teacher")
    homeroom_teacher_id: str | None = Field(None, description="Opaque id of the homeroom teacher")
    homeroom_teacher_name: str | None = Field(
        None, description="Homeroom teacher's full name, printed on the form"
    )
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
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("gradebook",)
    PUBLIC_MODEL: ClassVar[type[BaseModel] | None] = TermLockedPublic

    school_id: str = Field(description="Opaque school id (the tenant)")
    school_name: str | None = Field(None, description="School name as printed on the form")
    school_province: str | None = Field(None, description="Province, printed on the cover")
    class_id: str = Field(description="Opaque class id")
    class_name: str = Field(description="Class name as printed, e.g. 8A1")
    grade: int = Field(ge=1, le=12, description="Grade 1–12")
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$", description="School year, e.g. 2025-2026")
    term: Term = Field(description="hk1 or hk2 (hk2 also closes the year)")
    circular: Circular = Field(description="tt27 for primary, tt22 for secondary")
    locked_by: str = Field(description="Opaque id of the principal who locked")
    locked_by_name: str | None = Field(
        None,
        description="The principal's name as printed on the form, when they are on the school's staff list",
    )
    locked_at: datetime = Field(description="When the term was locked")
    snapshot: ClassSnapshot = Field(description="Everything locked, as the transcript must print it")
    summer: bool = Field(
        False,
        description="The principal's summer lock (TT22 art. 12–14): term is hk2 and the snapshot is the year's with "
        "the re-test and summer-training results beside the year-end ones; the students concerned get a new "
        "version of their year record, on the supplementary path",
    )

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


class AmendmentAppliedV1(EventModel):
    """A principal approved an amendment (biên bản) to a locked term: the class's new snapshot."""

    EVENT_NAME: ClassVar[str] = "gradebook.amendment.applied"
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("gradebook",)

    amendment_id: str = Field(description="Id of the amendment record")
    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    school_year: str = Field(description="School year, e.g. 2025-2026")
    term: Term = Field(description="The locked term that changed")
    student_id: str = Field(description="Opaque id of the student whose record changed")
    subject_code: str | None = Field(None, description="Subject changed; null for a homeroom record")
    reason: str = Field(description="Why, as stated in the amendment record")
    proposed_by: str = Field(description="Opaque id of the teacher who proposed it")
    approved_by: str = Field(description="Opaque id of the principal who approved it")
    approved_at: datetime = Field(description="When it was approved")
    snapshot: ClassSnapshot = Field(description="The class's whole locked snapshot after the change")
