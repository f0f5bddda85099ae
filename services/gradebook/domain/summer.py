"""The summer stage (TT22 art. 12–14): after the year's lock, the re-test results and the conduct re-assessed after
summer training of the students the year sent there, checked before they are stored; then the principal's lock.

Who enters what follows the circular and permissions.py: the subject's teacher enters its re-test result (art. 14
"Kiểm tra, đánh giá lại các môn học trong kì nghỉ hè"), the homeroom teacher the conduct after the summer training
(art. 13 "Rèn luyện trong kì nghỉ hè": the conduct re-assessed after it replaces the year's conduct for promotion;
the homeroom teacher assesses conduct, art. 8). The circular numbers them so; the code and rules.md said "art.
13–14" together, and where one was named it was the other way round (year.py's re-test reason said Điều 13): the
circular wins, the re-test is Điều 14. Only the subjects the year's decision lists
(ĐTBmcn < 5.0 or Chưa đạt) may be re-tested, and only a student sent to summer training gets a summer conduct.
The re-test result replaces the subject's year result for the learning result after the re-test; both stay in the
record (rules.md "After the year").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from services.gradebook.domain import tt22
from services.gradebook.domain.curriculum import Assessment, Subject
from services.gradebook.domain.errors import GradebookError
from services.gradebook.domain.marks import MarkInvalid, score
from services.gradebook.domain.term_lock import MissingResult, TermLockError

# The sheet's stage after hk1 and hk2: marks (the re-test), homeroom records (the conduct) and the lock use it.
SUMMER: Final = "summer"
TRAINING = "rèn luyện trong kì nghỉ hè"


class SummerNotOpen(GradebookError):
    http_status = 409
    slug = "summer-not-open"
    title = "Summer stage not open"


class SummerLocked(GradebookError):
    http_status = 409
    slug = "summer-locked"
    title = "Summer stage locked"


class SummerIncomplete(TermLockError):
    """The summer lock closes the year for good: every re-test and summer conduct due must be there (or be accepted
    missing by the principal, with the reason), named in the response like term II's gaps."""

    slug = "summer-incomplete"
    title = "Summer results missing"

    def __init__(self, class_id: str, missing: list[MissingResult]) -> None:
        listed = "; ".join(f"{m.student}: {m.result}" for m in missing[:30])
        more = f"; và {len(missing) - 30} mục khác" if len(missing) > 30 else ""
        super().__init__(
            f"Chưa thể khóa kết quả sau kiểm tra lại, rèn luyện hè: còn thiếu {len(missing)} kết quả — "
            f"{listed}{more}. Hãy nhập đủ, hoặc ghi tên học sinh vắng và lý do.",
            log=f"{class_id} summer: {len(missing)} results missing",
        )
        self.missing = missing

    def problem_extensions(self) -> dict[str, object]:
        return {
            "missing": [
                {"student_id": m.student_id, "student": m.student, "result": m.result} for m in self.missing
            ]
        }


def retest_result(subject: Subject, value: Any, where: str) -> str:
    """A re-test result as stored: a score 0–10 with one decimal at most (the one check, scores.py) for a scored
    subject, Đ/CĐ for a comment subject."""
    if subject.assessment is Assessment.COMMENT:
        if value not in (tt22.PASS, tt22.FAIL):
            raise MarkInvalid(
                where,
                f"Kết quả kiểm tra lại môn {subject.name} (đánh giá bằng nhận xét) là Đ hoặc CĐ, nhận được “{value}”.",
            )
        return str(value)
    return score(value, where)


def summer_conduct(value: Any, where: str) -> str:
    if value not in tt22.LEVELS:
        raise MarkInvalid(
            where, f"Kết quả rèn luyện sau rèn luyện hè là Tốt, Khá, Đạt hoặc Chưa đạt, nhận được “{value}”."
        )
    return str(value)


def not_due_retest(name: str, subject: Subject, where: str) -> MarkInvalid:
    return MarkInvalid(
        where,
        f"Học sinh {name} không phải kiểm tra lại môn {subject.name}: chỉ nhập cho các môn có trong kết luận "
        "cuối năm (Điều 14 Thông tư 22).",
    )


def not_due_training(name: str, where: str) -> MarkInvalid:
    return MarkInvalid(
        where,
        f"Học sinh {name} không phải rèn luyện trong kì nghỉ hè: chỉ nhập cho học sinh có kết quả rèn luyện cả "
        "năm Chưa đạt (Điều 13 Thông tư 22).",
    )


def summer_gaps(
    students: Iterable[tuple[str, str, tuple[str, ...], bool]],
    retests: Mapping[str, Mapping[str, Any]],
    conducts: Mapping[str, Any],
    subject_names: Mapping[str, str],
) -> list[MissingResult]:
    """What the summer lock still lacks, per student: each re-test due without a result, the summer conduct due.
    ``students``: (id, name, subjects to re-test, sent to summer training); ``retests``: student → subject → entry;
    ``conducts``: student → the summer record."""
    missing = []
    for student_id, name, subjects, training in students:
        for code in subjects:
            if not (retests.get(student_id) or {}).get(code):
                missing.append(
                    MissingResult(student_id, name, f"kiểm tra lại môn {subject_names.get(code, code)}")
                )
        if training and not (conducts.get(student_id) or {}).get("conduct"):
            missing.append(MissingResult(student_id, name, "rèn luyện sau kì nghỉ hè"))
    return missing
