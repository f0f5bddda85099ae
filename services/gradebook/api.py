"""The gradebook's HTTP request models and route table: the OpenAPI document is generated from these."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.runtime.openapi import Route


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchoolIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="Tên trường")
    level: Literal["primary", "lower_secondary", "upper_secondary"] = Field(description="Cấp học")
    province: str | None = Field(None, max_length=100)
    district: str | None = Field(None, max_length=100)
    current_year: str = Field(pattern=r"^\d{4}-\d{4}$", description="Năm học đang nhập liệu, ví dụ 2025-2026")


class ImportRowsIn(Strict):
    rows: list[dict[str, str | int | None]] = Field(
        description="Rows as column → value (CSV/XLSX also accepted)"
    )


class MarkEntryIn(Strict):
    student_id: str = Field(description="Opaque student id")
    regular: list[Decimal | str] | None = Field(None, description="Regular assessments ĐĐGtx (0–10)")
    midterm: Decimal | str | None = Field(None, description="Mid-term ĐĐGgk (0–10)")
    final: Decimal | str | None = Field(None, description="End-of-term ĐĐGck (0–10)")
    result: Literal["Đ", "CĐ"] | None = Field(None, description="Comment-only subjects")
    level: Literal["T", "H", "C"] | None = Field(None, description="Primary subjects")
    test: int | None = Field(None, description="Primary periodic test 1–10")
    comment: str | None = Field(None, max_length=2000, description="Teacher's comment")


class MarksIn(Strict):
    entries: list[MarkEntryIn] = Field(min_length=1, max_length=100, description="One entry per student")


class HomeroomEntryIn(Strict):
    student_id: str
    conduct: Literal["Tốt", "Khá", "Đạt", "Chưa đạt"] | None = None
    qualities: dict[str, Literal["T", "Đ", "C"]] | None = None
    competencies: dict[str, Literal["T", "Đ", "C"]] | None = None
    absences: int | None = Field(None, ge=0, le=365)
    homeroom_comment: str | None = Field(None, max_length=2000)


class HomeroomIn(Strict):
    entries: list[HomeroomEntryIn] = Field(min_length=1, max_length=100)


class ReasonIn(Strict):
    reason: str = Field(min_length=5, max_length=2000, description="Lý do")


class LockIn(Strict):
    """Optional. Term II refuses while any year result is missing; the principal may lock anyway for the students
    named here (a pupil who left mid-term, a long illness), with the reason: each is written to the audit log."""

    incomplete_accepted: list[str] = Field(
        default_factory=list, max_length=2000, description="Students locked despite missing results"
    )
    reason: str | None = Field(
        None, min_length=5, max_length=2000, description="Lý do (bắt buộc khi chấp nhận thiếu)"
    )


class AmendmentIn(Strict):
    student_id: str
    subject_code: str | None = Field(None, description="Null to amend the homeroom record")
    after: dict[str, object] = Field(description="The corrected entry, same shape as in MarksIn / HomeroomIn")
    reason: str = Field(min_length=5, max_length=2000, description="Lý do điều chỉnh (ghi vào biên bản)")


class CarriedTermIn(Strict):
    """The term a student who joined the class during the year studied at the previous school, from the
    handed-over record (chuyển trường giữa năm học): what that school's locked term gave."""

    from_school_id: str = Field(min_length=1, max_length=64, description="Mã trường chuyển đi")
    from_school_name: str = Field(
        min_length=1, max_length=200, description="Tên trường chuyển đi, như in trên học bạ"
    )
    subjects: dict[str, Decimal | str] = Field(
        max_length=40,
        description="Mã môn → điểm trung bình học kỳ (ĐTBmhk, 0–10, một chữ số thập phân) hoặc Đ/CĐ với môn đánh "
        "giá bằng nhận xét",
    )
    conduct: Literal["Tốt", "Khá", "Đạt", "Chưa đạt"] | None = Field(
        None, description="Kết quả rèn luyện học kỳ tại trường cũ"
    )
    absences: int | None = Field(None, ge=0, le=365, description="Số buổi nghỉ học kỳ tại trường cũ")
    source: str = Field(
        min_length=5,
        max_length=2000,
        description="Căn cứ: hồ sơ chuyển trường / học bạ được bàn giao (số, ngày)",
    )


class DecisionIn(Strict):
    approve: bool
    note: str | None = Field(None, max_length=2000)


class AwardIn(Strict):
    """The principal's award (khen thưởng) of one title for the class's school year."""

    kind: Literal["xuat_sac", "gioi", "tieu_bieu"] = Field(
        description="xuat_sac: Học sinh Xuất sắc; gioi: Học sinh Giỏi (THCS, THPT); tieu_bieu: Học sinh Tiêu biểu "
        "hoàn thành tốt trong học tập và rèn luyện (tiểu học)"
    )
    reason: str = Field(
        min_length=5,
        max_length=2000,
        description="Số quyết định của hiệu trưởng và căn cứ (với Tiêu biểu: môn học nổi bật hoặc tiến bộ rõ "
        "rệt, được tập thể lớp công nhận)",
    )


class ExemptionIn(Strict):
    """The principal's decision (quyết định miễn học): one subject, for one term or the whole year."""

    subject_code: str = Field(min_length=1, max_length=32, description="Môn được miễn, ví dụ gdtc")
    period: Literal["hk1", "hk2", "year"] = Field(description="hk1, hk2 hoặc year (cả năm)")
    reason: str = Field(min_length=5, max_length=2000, description="Lý do, số quyết định của hiệu trưởng")


class IndividualPlanIn(Strict):
    """The principal's decision approving a student's individual education plan (kế hoạch giáo dục cá nhân, TT22
    art. 10) for the year: the subjects assessed against the plan; the others as for every student."""

    subjects: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        min_length=1,
        max_length=30,
        description='Các môn đánh giá theo yêu cầu của kế hoạch giáo dục cá nhân, ví dụ ["toan", "ngu_van"]',
    )
    reason: str = Field(
        min_length=5,
        max_length=2000,
        description="Số quyết định của hiệu trưởng, tên kế hoạch giáo dục cá nhân",
    )


class RetestEntryIn(Strict):
    student_id: str = Field(description="Opaque student id")
    result: Decimal | str = Field(
        description="Điểm kiểm tra lại 0–10 (môn tính điểm) hoặc Đ/CĐ (môn nhận xét); tiểu học, đánh giá bổ sung "
        "(Thông tư 27, Điều 11): mức T, H hoặc C"
    )
    test: int | None = Field(
        None, description="Tiểu học, đánh giá bổ sung: điểm bài kiểm tra 1–10 (môn có bài kiểm tra định kì)"
    )


class RetestIn(Strict):
    entries: list[RetestEntryIn] = Field(min_length=1, max_length=100, description="One entry per student")


class SummerConductEntryIn(Strict):
    student_id: str = Field(description="Opaque student id")
    conduct: str | None = Field(
        None, description="THCS, THPT: kết quả rèn luyện sau rèn luyện hè: Tốt, Khá, Đạt hoặc Chưa đạt"
    )
    qualities: dict[str, str] | None = Field(
        None, description="Tiểu học, đánh giá bổ sung: phẩm chất ở mức Cần cố gắng → mức mới (T, Đ, C)"
    )
    competencies: dict[str, str] | None = Field(
        None, description="Tiểu học, đánh giá bổ sung: năng lực ở mức Cần cố gắng → mức mới (T, Đ, C)"
    )


class SummerConductIn(Strict):
    entries: list[SummerConductEntryIn] = Field(min_length=1, max_length=100)


class SummerLockIn(LockIn):
    """The summer lock; for a primary class also the principal's decision (TT27 art. 11 §3) for grade 1–4 pupils
    still not complete after the supplementary assessment: those named here go up (lên lớp), the others repeat."""

    promoted: list[str] = Field(
        default_factory=list,
        max_length=2000,
        description="Học sinh chưa hoàn thành được hiệu trưởng quyết định cho lên lớp (lý do bắt buộc)",
    )


ROUTES = [
    Route("PUT", "/schools/{school_id}", "Declare or update a school", SchoolIn, ("operator", "staff")),
    Route(
        "POST",
        "/schools/{school_id}/imports/{kind}",
        "Import teachers, classes, students or assignments (CSV, XLSX or JSON rows); all rows or none",
        ImportRowsIn,
        ("staff", "principal"),
    ),
    Route(
        "PUT",
        "/classes/{class_id}/subjects/{subject_code}/terms/{term}/marks",
        "Enter or correct a subject's marks for some or all students of a class",
        MarksIn,
        ("teacher",),
    ),
    Route(
        "PUT",
        "/classes/{class_id}/terms/{term}/homeroom",
        "Enter conduct, qualities, competencies, absences and comments",
        HomeroomIn,
        ("homeroom",),
    ),
    Route(
        "GET",
        "/classes/{class_id}/sheet",
        "The class sheet with computed results (?term=hk1|hk2)",
        None,
        ("teacher", "homeroom", "principal", "staff", "inspector"),
    ),
    Route(
        "GET",
        "/classes/{class_id}/students/{student_id}/results",
        "One student's computed results with, for every value, the rule and numbers behind it (Vietnamese)",
        None,
        ("homeroom", "teacher", "principal", "staff", "inspector"),
    ),
    Route("POST", "/classes/{class_id}/terms/{term}/lock", "Lock a term for a class", LockIn, ("principal",)),
    Route(
        "POST",
        "/classes/{class_id}/terms/{term}/unlock",
        "Unlock a term for a class",
        ReasonIn,
        ("principal",),
    ),
    Route(
        "POST",
        "/schools/{school_id}/terms/{term}/lock",
        "Lock a term for every class of the school",
        None,
        ("principal",),
    ),
    Route(
        "POST",
        "/schools/{school_id}/terms/{term}/unlock",
        "Unlock a term for every class of the school",
        ReasonIn,
        ("principal",),
    ),
    Route(
        "POST",
        "/classes/{class_id}/terms/{term}/amendments",
        "Propose an amendment to a locked term",
        AmendmentIn,
        ("teacher", "homeroom"),
    ),
    Route(
        "POST",
        "/amendments/{amendment_id}/decision",
        "Approve or reject an amendment",
        DecisionIn,
        ("principal",),
    ),
    Route(
        "GET",
        "/schools/{school_id}/amendments",
        "Amendment records (?status=pending)",
        None,
        ("principal", "inspector"),
    ),
    Route(
        "POST",
        "/classes/{class_id}/students/{student_id}/exemptions",
        "Exempt a student from a subject for a term or the year (miễn học; the principal's decision, audited)",
        ExemptionIn,
        ("principal",),
    ),
    Route(
        "GET",
        "/classes/{class_id}/exemptions",
        "The class's exemptions",
        None,
        ("teacher", "homeroom", "principal", "staff", "inspector"),
    ),
    Route(
        "POST",
        "/exemptions/{exemption_id}/revoke",
        "Revoke an exemption (the principal, with the reason; audited)",
        ReasonIn,
        ("principal",),
    ),
    Route(
        "PUT",
        "/classes/{class_id}/subjects/{subject_code}/summer/retest",
        "Enter re-test results after the year's lock (TT22 art. 14), for the students the year sent to a re-test; "
        "primary: a subject's supplementary assessment (TT27 art. 11), its new level and test",
        RetestIn,
        ("teacher",),
    ),
    Route(
        "PUT",
        "/classes/{class_id}/summer/conduct",
        "Enter the conduct re-assessed after summer training (TT22 art. 13); primary: the qualities and "
        "competencies re-assessed in the supplementary assessment (TT27 art. 11)",
        SummerConductIn,
        ("homeroom",),
    ),
    Route(
        "POST",
        "/classes/{class_id}/summer/lock",
        "Lock the results after the summer; the year records of the students concerned are rebuilt",
        SummerLockIn,
        ("principal",),
    ),
    Route(
        "POST",
        "/classes/{class_id}/students/{student_id}/awards",
        "Award a student a title for the year (khen thưởng; the principal's decision, audited, before the year's "
        "lock)",
        AwardIn,
        ("principal",),
    ),
    Route(
        "GET",
        "/classes/{class_id}/awards",
        "The class's awards",
        None,
        ("teacher", "homeroom", "principal", "staff", "inspector"),
    ),
    Route(
        "POST",
        "/awards/{award_id}/revoke",
        "Revoke an award (the principal, with the reason; audited; before the year's lock)",
        ReasonIn,
        ("principal",),
    ),
    Route(
        "POST",
        "/classes/{class_id}/students/{student_id}/individual-plans",
        "Record a student's individual education plan for the year (kế hoạch giáo dục cá nhân, TT22 art. 10): the "
        "subjects assessed against the plan (the principal's decision, audited)",
        IndividualPlanIn,
        ("principal",),
    ),
    Route(
        "GET",
        "/classes/{class_id}/individual-plans",
        "The class's individual education plans",
        None,
        ("teacher", "homeroom", "principal", "staff", "inspector"),
    ),
    Route(
        "POST",
        "/individual-plans/{plan_id}/withdraw",
        "Withdraw an individual education plan (the principal, with the reason; audited)",
        ReasonIn,
        ("principal",),
    ),
    Route(
        "PUT",
        "/classes/{class_id}/students/{student_id}/carried-terms/{term}",
        "Record the term a student who joined during the year studied at the previous school (its subjects' term "
        "results, conduct and absences from the handed-over record; audited; before the year's lock): the year is "
        "computed from it and this school's term II",
        CarriedTermIn,
        ("staff", "principal"),
    ),
]
