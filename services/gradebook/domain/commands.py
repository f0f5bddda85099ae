"""Commands the gradebook accepts."""

from __future__ import annotations

from dataclasses import dataclass

from services.gradebook.domain.term_lock import Term


@dataclass(frozen=True)
class LockTerm:
    school_id: str
    class_id: str
    class_name: str
    grade: int
    school_year: str
    term: Term
    actor_id: str
