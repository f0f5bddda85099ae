"""Locking a term: once the principal locks it, a class's results for that term are final."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.gradebook.domain.errors import GradebookError

Term = Literal["hk1", "hk2"]

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


def term_label(term: str) -> str:
    return {"hk1": "I", "hk2": "II"}.get(term, term)


@dataclass(frozen=True, slots=True)
class TermLock:
    school_id: str
    class_id: str
    school_year: str
    term: Term
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
