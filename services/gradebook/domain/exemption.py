"""Exemptions (miễn học): the principal's decision that a student does not study a subject for a term or the year.

rules.md "Cases every school has": the subject is recorded as "Miễn" for that period and left out of the learning
result, whose "at least 6 scored subjects" rows then count the subjects the student studies (year.py). TT22 art. 9
leaves the decision to the principal (e.g. Giáo dục thể chất on health grounds); TT27 has no exemption of its own
and the rules CLI takes ``exempt`` for TT22 only, so a primary class is refused here too (project decision: a
primary pupil with disabilities follows an individual education plan instead, individual_plan.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.gradebook.domain.errors import GradebookError

Period = Literal["hk1", "hk2", "year"]
PERIOD_LABEL = {"hk1": "học kỳ I", "hk2": "học kỳ II", "year": "cả năm"}


@dataclass(frozen=True, slots=True)
class Exemption:
    id: str
    school_id: str
    class_id: str
    student_id: str
    subject_code: str
    period: Period
    reason: str
    decided_by: str
    decided_at: datetime

    @property
    def terms(self) -> frozenset[str]:
        """The terms it exempts: a year's exemption is both terms'."""
        return frozenset(("hk1", "hk2")) if self.period == "year" else frozenset((self.period,))


class ExemptionRefused(GradebookError):
    http_status = 422
    slug = "exemption-refused"
    title = "Exemption refused"


class ExemptionOverlaps(GradebookError):
    http_status = 409
    slug = "exemption-overlaps"
    title = "Exemption already decided"


def exempt_terms(exemptions: Iterable[Exemption]) -> dict[str, dict[str, frozenset[str]]]:
    """student → subject → the terms exempted, the rules' input (year.py ``SubjectYear.exempt``)."""
    out: dict[str, dict[str, frozenset[str]]] = {}
    for e in exemptions:
        subjects = out.setdefault(e.student_id, {})
        subjects[e.subject_code] = subjects.get(e.subject_code, frozenset()) | e.terms
    return out


def check_new(new: Exemption, existing: Iterable[Exemption], *, primary: bool, subject_name: str) -> None:
    """A decision is refused for a primary class, and when it overlaps one already taken for the same student and
    subject (a year's exemption covers both terms): the principal revokes the old one first."""
    if primary:
        raise ExemptionRefused(
            "Miễn học môn theo quyết định của hiệu trưởng chỉ áp dụng cho học sinh THCS, THPT (Thông tư 22). "
            "Học sinh tiểu học khuyết tật được đánh giá theo kế hoạch giáo dục cá nhân do hiệu trưởng phê duyệt."
        )
    for old in existing:
        if (
            old.student_id == new.student_id
            and old.subject_code == new.subject_code
            and old.terms & new.terms
        ):
            raise ExemptionOverlaps(
                f"Học sinh đã được miễn học môn {subject_name} ({PERIOD_LABEL[old.period]}). "
                "Hãy hủy quyết định đó trước khi ghi quyết định mới.",
                log=f"exemption {old.id} overlaps",
            )


def entered_in(terms: frozenset[str], entries: Mapping[str, object]) -> list[str]:
    """The exempted terms that already hold marks: they stay stored, but no longer count (shown to the principal)."""
    return sorted(t for t in terms if entries.get(t))
