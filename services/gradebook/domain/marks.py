"""What a teacher may enter for one student, subject and term, checked before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gradebook.domain import tt22, tt27
from services.gradebook.domain.curriculum import Assessment, Subject, regular_assessments
from services.gradebook.domain.errors import GradebookError
from services.gradebook.domain.scores import ScoreInvalid, score_text, tt22_score, tt27_test_score

COMMENT_RESULTS = ("Đ", "CĐ")
LEVELS = ("T", "H", "C")
MAX_COMMENT = 2000


class MarkInvalid(GradebookError):
    """An entered value breaks the circular's rules; ``field`` names it, ``detail_vi`` explains it."""

    http_status = 422
    slug = "mark-invalid"
    title = "Entered value is invalid"

    def __init__(self, field: str, detail_vi: str) -> None:
        super().__init__(detail_vi, log=f"{field}: {detail_vi}")
        self.field = field

    def problem_extensions(self) -> dict[str, object]:
        return {"errors": [{"field": self.field, "message": self.detail_vi}]}


@dataclass(frozen=True)
class MarkEntry:
    """One cell of the class sheet. Scores keep their decimal text exactly as entered (no float)."""

    regular: tuple[str, ...] = ()
    midterm: str | None = None
    final: str | None = None
    result: str | None = None  # comment-only subjects: Đ / CĐ for the term
    level: str | None = None  # primary: T / H / C
    test: int | None = None  # primary periodic test 1–10
    midterm_test: int | None = None  # grades 4–5, Tiếng Việt and Toán: the mid-term test (TT27 art. 7)
    comment: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "regular": list(self.regular),
            "midterm": self.midterm,
            "final": self.final,
            "result": self.result,
            "level": self.level,
            "test": self.test,
            "midterm_test": self.midterm_test,
            "comment": self.comment,
        }
        return {k: v for k, v in out.items() if v not in (None, [])}


def score(value: Any, where: str) -> str:
    """A score 0–10 with at most one decimal (the one check, scores.py), as canonical text ("7.5", "8")."""
    try:
        return score_text(tt22_score(value, where))
    except ScoreInvalid as error:
        raise MarkInvalid(error.field, error.detail_vi) from None


def _test(value: Any, where: str) -> int:
    """A primary periodic test 1–10 (the one check, scores.py)."""
    try:
        return tt27_test_score(value, where)
    except ScoreInvalid as error:
        raise MarkInvalid(error.field, error.detail_vi) from None


def validate_entry(
    subject: Subject, periods_per_year: int | None, raw: dict[str, Any], where: str, grade: int | None = None
) -> MarkEntry:
    """Check an entry against the subject's kind of assessment. Entries may be partial during the term."""
    comment = raw.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise MarkInvalid(f"{where}.comment", f"Nhận xét phải là văn bản tối đa {MAX_COMMENT} ký tự.")
    allowed: set[str]
    if subject.assessment is Assessment.SCORE:
        allowed = {"regular", "midterm", "final", "comment"}
        regular = _listed(raw.get("regular"), f"{where}.regular", subject, periods_per_year)
        entry = MarkEntry(
            regular=tuple(score(v, f"{where}.regular[{i}]") for i, v in enumerate(regular)),
            midterm=None if raw.get("midterm") is None else score(raw["midterm"], f"{where}.midterm"),
            final=None if raw.get("final") is None else score(raw["final"], f"{where}.final"),
            comment=comment,
        )
    elif subject.assessment is Assessment.COMMENT:
        # TT22 art. 9 §1a: the term result follows from the assessments (every one there and Đạt), so the teacher
        # enters the assessments and the service computes the term; a typed term result is refused, not trusted.
        if raw.get("result") is not None:
            raise MarkInvalid(
                f"{where}.result",
                f"Kết quả học kỳ môn {subject.name} được tính từ các lần đánh giá (Điều 9 khoản 1 điểm a "
                "Thông tư 22): hãy nhập từng lần đánh giá thường xuyên, giữa kỳ và cuối kỳ (Đ hoặc CĐ).",
            )
        allowed = {"regular", "midterm", "final", "comment"}
        regular = _listed(raw.get("regular"), f"{where}.regular", subject, periods_per_year)
        entry = MarkEntry(
            regular=tuple(_pass_or_fail(v, f"{where}.regular[{i}]") for i, v in enumerate(regular)),
            midterm=None if raw.get("midterm") is None else _pass_or_fail(raw["midterm"], f"{where}.midterm"),
            final=None if raw.get("final") is None else _pass_or_fail(raw["final"], f"{where}.final"),
            comment=comment,
        )
    else:
        allowed = {"level", "test", "comment"}
        # TT27 art. 7: grades 4 and 5 also take mid-term tests in Tiếng Việt and Toán.
        if grade is not None and tt27.has_midterm_test(subject.code, grade):
            allowed.add("midterm_test")
        level, test, midterm_test = raw.get("level"), raw.get("test"), raw.get("midterm_test")
        if level is not None and level not in LEVELS:
            raise MarkInvalid(f"{where}.level", f"Mức đạt được chỉ là T, H hoặc C, nhận được “{level}”.")
        entry = MarkEntry(
            level=level,
            test=None if test is None else _test(test, f"{where}.test"),
            midterm_test=None if midterm_test is None else _test(midterm_test, f"{where}.midterm_test"),
            comment=comment,
        )
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise MarkInvalid(
            f"{where}.{unknown[0]}", f"Trường “{unknown[0]}” không dùng cho môn {subject.name}."
        )
    return entry


def _listed(regular: Any, where: str, subject: Subject, periods_per_year: int | None) -> list[Any]:
    """The regular assessments entered so far: a list, no longer than the subject's periods allow (art. 6)."""
    unit = "điểm đánh giá" if subject.assessment is Assessment.SCORE else "lần đánh giá"
    regular = regular or []
    if not isinstance(regular, list):
        raise MarkInvalid(where, f"Các {unit} thường xuyên phải là một danh sách.")
    limit = regular_assessments(periods_per_year or 0)
    if len(regular) > limit:
        raise MarkInvalid(
            where,
            f"Môn {subject.name} ({periods_per_year} tiết/năm) có {limit} {unit} thường xuyên mỗi học kỳ, "
            f"nhận được {len(regular)}.",
        )
    return regular


def _pass_or_fail(value: Any, where: str) -> str:
    if value not in COMMENT_RESULTS:
        raise MarkInvalid(where, f"Môn đánh giá bằng nhận xét chỉ nhận Đ hoặc CĐ, nhận được “{value}”.")
    return str(value)


CONDUCT_LEVELS = tuple(reversed(tt22.LEVELS))
QUALITY_LEVELS = tuple(tt27.QUALITY_LEVELS)
QUALITIES, COMPETENCIES = tt27.QUALITIES, tt27.COMPETENCIES


def validate_homeroom(grade: int, raw: dict[str, Any], where: str) -> dict[str, Any]:
    """What the homeroom teacher records per student and term: conduct (TT22) or qualities and competencies
    (TT27), absences and a comment."""
    primary = grade <= 5
    allowed = {"absences", "homeroom_comment"} | ({"qualities", "competencies"} if primary else {"conduct"})
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise MarkInvalid(f"{where}.{unknown[0]}", f"Trường “{unknown[0]}” không dùng cho khối {grade}.")
    record: dict[str, Any] = {}
    if raw.get("conduct") is not None:
        if raw["conduct"] not in CONDUCT_LEVELS:
            raise MarkInvalid(f"{where}.conduct", "Kết quả rèn luyện là Tốt, Khá, Đạt hoặc Chưa đạt.")
        record["conduct"] = raw["conduct"]
    for name, keys in (
        ("qualities", QUALITIES),
        ("competencies", tt27.competencies(grade) if primary else ()),
    ):
        values = raw.get(name)
        if values is None:
            continue
        if isinstance(values, dict):
            early = [k for k in values if k in COMPETENCIES and k not in keys]
            if early:
                raise MarkInvalid(
                    f"{where}.{name}.{early[0]}",
                    f"Năng lực {tt27.COMPETENCY_NAMES[early[0]]} được đánh giá từ lớp 3, không đánh giá ở lớp {grade}.",
                )
        if not isinstance(values, dict) or set(values) - set(keys):
            raise MarkInvalid(f"{where}.{name}", f"Các mục hợp lệ ở khối {grade}: {', '.join(keys)}.")
        bad = [k for k, v in values.items() if v not in QUALITY_LEVELS]
        if bad:
            raise MarkInvalid(
                f"{where}.{name}.{bad[0]}", "Mức đánh giá là T (Tốt), Đ (Đạt) hoặc C (Cần cố gắng)."
            )
        record[name] = dict(values)
    if raw.get("absences") is not None:
        absences = raw["absences"]
        if isinstance(absences, bool) or not isinstance(absences, int) or not 0 <= absences <= 365:
            raise MarkInvalid(f"{where}.absences", "Số buổi nghỉ là số nguyên không âm.")
        record["absences"] = absences
    comment = raw.get("homeroom_comment")
    if comment is not None:
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise MarkInvalid(f"{where}.homeroom_comment", f"Nhận xét tối đa {MAX_COMMENT} ký tự.")
        record["homeroom_comment"] = comment
    return record
