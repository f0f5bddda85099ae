"""Locking a term: once the principal locks it, a class's results for that term are final."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.gradebook.domain.errors import GradebookError

Term = Literal["hk1", "hk2"]
# What a lock freezes: a term, or the summer stage after the year (summer.py).
Stage = Literal["hk1", "hk2", "summer"]

# Users read times in Vietnam's time zone (UTC+7, no daylight saving); storage stays UTC.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class TermLockError(GradebookError):
    """Base of the term-lock rule violations; each carries what the API shows the user."""

    http_status = 409
    slug = "term-lock"
    title = "Term lock refused"


class TermAlreadyLocked(TermLockError):
    slug = "term-already-locked"
    title = "Term already locked"

    def __init__(self, class_id: str, term: str, locked_at: datetime) -> None:
        local = locked_at.astimezone(VIETNAM)
        super().__init__(
            f"Học kỳ {term_label(term)} của lớp này đã được khóa lúc {local:%H:%M ngày %d/%m/%Y}.",
            log=f"{class_id} {term} locked at {locked_at.isoformat()}",
        )


class TermNotLocked(TermLockError):
    slug = "term-not-locked"
    title = "Term is not locked"

    def __init__(self, class_id: str, term: str) -> None:
        super().__init__(
            f"Học kỳ {term_label(term)} của lớp này chưa bị khóa.", log=f"{class_id} {term} is not locked"
        )


@dataclass(frozen=True, slots=True)
class MissingResult:
    """A year result term II cannot be locked without: whose, and which (in the words the principal reads)."""

    student_id: str
    student: str
    result: str


class YearIncomplete(TermLockError):
    """Term II closes the year: a record sealed from it must hold every year result, so a gap refuses the lock and
    names each student and result missing (in the response; the log carries only the count, no names)."""

    slug = "year-incomplete"
    title = "Year results missing"
    SHOWN = 30  # in the sentence; every one in ``missing``

    def __init__(self, class_id: str, missing: list[MissingResult]) -> None:
        listed = "; ".join(f"{m.student}: {m.result}" for m in missing[: self.SHOWN])
        more = f"; và {len(missing) - self.SHOWN} mục khác" if len(missing) > self.SHOWN else ""
        super().__init__(
            f"Chưa thể khóa học kỳ II: còn thiếu {len(missing)} kết quả cả năm — {listed}{more}. "
            "Hãy nhập đủ rồi khóa lại.",
            log=f"{class_id} hk2: {len(missing)} year results missing",
        )
        self.missing = missing

    def problem_extensions(self) -> dict[str, object]:
        return {
            "missing": [
                {"student_id": m.student_id, "student": m.student, "result": m.result} for m in self.missing
            ]
        }


class LockReasonRequired(TermLockError):
    http_status = 422
    slug = "lock-reason-required"
    title = "A reason is required"

    def __init__(self) -> None:
        super().__init__(
            "Khóa học kỳ khi còn thiếu kết quả cần ghi lý do (ví dụ: học sinh chuyển đi giữa kỳ).",
            log="lock with accepted gaps but no reason",
        )


def year_gaps(
    students: Iterable[tuple[str, str, Mapping[str, str | None], Mapping[str, str | None]]],
    subject_names: Mapping[str, str],
    *,
    primary: bool,
) -> list[MissingResult]:
    """Every year result missing from a class, per student: each subject without a year result, then the year's
    conduct (TT22 art. 8) or, for a primary pupil whose subjects are all there, the educational result (TT27 art. 9:
    a quality, a competency or an end-of-year test is missing). ``students``: (id, name, subject → year result,
    the year's results)."""
    missing = []
    for student_id, name, subjects, year in students:
        gaps = [subject_names.get(code, code) for code, value in subjects.items() if value is None]
        if primary and not gaps and not year.get("year_result"):
            gaps.append("kết quả giáo dục cả năm (thiếu phẩm chất, năng lực hoặc điểm kiểm tra định kỳ)")
        if not primary and not year.get("conduct"):
            gaps.append("kết quả rèn luyện cả năm")
        missing += [MissingResult(student_id, name, gap) for gap in gaps]
    return missing


def term_label(term: str) -> str:
    return {"hk1": "I", "hk2": "II"}.get(term, term)


@dataclass(frozen=True, slots=True)
class TermLock:
    school_id: str
    class_id: str
    school_year: str
    term: Stage
    locked_by: str
    locked_at: datetime


def lock_term(existing: TermLock | None, new: TermLock) -> TermLock:
    """A term is locked once; locking again is refused rather than silently moving the lock time."""
    if existing is not None:
        raise TermAlreadyLocked(existing.class_id, existing.term, existing.locked_at)
    return new


def content_hash(content: Any) -> str:
    """sha256 of canonical JSON: the same content always hashes the same, whatever the key order."""
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
