"""Commands the gradebook accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gradebook.domain.award import Kind
from services.gradebook.domain.exemption import Period
from services.gradebook.domain.permissions import Actor
from services.gradebook.domain.term_lock import Term


@dataclass(frozen=True)
class ImportMasterData:
    actor: Actor
    school_id: str
    kind: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class RecordMarks:
    actor: Actor
    class_id: str
    subject_code: str
    term: Term
    entries: list[dict[str, Any]]


@dataclass(frozen=True)
class RecordHomeroom:
    actor: Actor
    class_id: str
    term: Term
    entries: list[dict[str, Any]]


@dataclass(frozen=True)
class LockTerm:
    actor: Actor
    class_id: str
    term: Term
    incomplete_accepted: frozenset[str] = frozenset()  # students the principal locks despite missing results
    reason: str | None = None


@dataclass(frozen=True)
class UnlockTerm:
    actor: Actor
    class_id: str
    term: Term
    reason: str


@dataclass(frozen=True)
class ProposeAmendment:
    actor: Actor
    class_id: str
    term: Term
    student_id: str
    subject_code: str | None
    after: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class DecideAmendment:
    actor: Actor
    amendment_id: str
    approve: bool
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecideExemption:
    actor: Actor
    class_id: str
    student_id: str
    subject_code: str
    period: Period
    reason: str


@dataclass(frozen=True)
class RevokeExemption:
    actor: Actor
    exemption_id: str
    reason: str


@dataclass(frozen=True)
class RecordRetests:
    actor: Actor
    class_id: str
    subject_code: str
    entries: list[dict[str, Any]]  # student_id, result (a score, or Đ/CĐ)


@dataclass(frozen=True)
class RecordSummerConduct:
    actor: Actor
    class_id: str
    entries: list[dict[str, Any]]  # student_id, conduct


@dataclass(frozen=True)
class LockSummer:
    actor: Actor
    class_id: str
    incomplete_accepted: frozenset[str] = frozenset()  # students who did not sit the re-test or the training
    reason: str | None = None
    promoted: frozenset[str] = frozenset()  # TT27 art. 11 §3: pupils not complete the principal lets go up


@dataclass(frozen=True)
class DecideAward:
    actor: Actor
    class_id: str
    student_id: str
    kind: Kind
    reason: str


@dataclass(frozen=True)
class RevokeAward:
    actor: Actor
    award_id: str
    reason: str


@dataclass(frozen=True)
class RecordCarriedTerm:
    """The receiving school records the term a student who joined during the year studied elsewhere (carried.py)."""

    actor: Actor
    class_id: str
    student_id: str
    term: str
    from_school_id: str
    from_school_name: str
    subjects: dict[str, Any]  # code → ĐTBmhk or Đ/CĐ, as the handed-over record gives it
    conduct: str | None
    absences: int | None
    source: str


@dataclass(frozen=True)
class DecideIndividualPlan:
    """The principal's decision: the student is assessed against an individual education plan in ``subjects``."""

    actor: Actor
    class_id: str
    student_id: str
    subjects: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class WithdrawIndividualPlan:
    actor: Actor
    plan_id: str
    reason: str
