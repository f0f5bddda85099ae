"""A year record's signatures: the plan fixed at assembly, who signs which step, and in what order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["subject_teacher", "homeroom_teacher", "principal", "school_seal"]
PERSON_ROLES: tuple[Role, ...] = ("subject_teacher", "homeroom_teacher", "principal")

ROLE_TITLES: dict[str, str] = {
    "subject_teacher": "Giáo viên bộ môn",
    "homeroom_teacher": "Giáo viên chủ nhiệm",
    "principal": "Hiệu trưởng",
    "school_seal": "Dấu của nhà trường",
}


@dataclass(frozen=True)
class Step:
    """One signature of the plan; ``field_name`` is the PDF field created for it before anyone signs."""

    order: int
    role: Role
    field_name: str
    signer_id: str
    signer_name: str
    covers: tuple[str, ...] = ()
    on_behalf_of: str | None = None

    @property
    def is_seal(self) -> bool:
        return self.role == "school_seal"

    @property
    def claimed_role(self) -> str:
        """What the signature claims about itself (CAdES claimed role, XAdES ClaimedRole)."""
        return f"urn:hocba:step:{self.order}:{self.role}:{self.field_name}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        orders = [s.order for s in self.steps]
        if orders != list(range(1, len(self.steps) + 1)):
            raise ValueError(f"plan steps must be numbered 1..n in order, got {orders}")
        if not self.steps or not self.steps[-1].is_seal or any(s.is_seal for s in self.steps[:-1]):
            raise ValueError("the school seal must be the last step, and only the last")

    def step(self, order: int) -> Step:
        return self.steps[order - 1]

    @property
    def seal(self) -> Step:
        return self.steps[-1]

    @property
    def person_steps(self) -> tuple[Step, ...]:
        return self.steps[:-1]

    def field_locks(self, step: Step) -> tuple[str, ...] | None:
        """The fields a step's signature locks (None: every field, and no further changes).

        A teacher locks their own field; the principal locks every person's field up to theirs; the seal locks all.
        """
        if step.is_seal:
            return None
        if step.role == "principal":
            return tuple(s.field_name for s in self.steps[: step.order])
        return (step.field_name,)


@dataclass
class Progress:
    """How far a record's signing has come; ``signed`` holds the orders done."""

    plan: Plan
    signed: list[int] = field(default_factory=list)

    @property
    def next_step(self) -> Step | None:
        done = len(self.signed)
        return self.plan.step(done + 1) if done < len(self.plan.steps) else None

    @property
    def complete(self) -> bool:
        return self.next_step is None
