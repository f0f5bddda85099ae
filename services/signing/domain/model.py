"""A year record's signatures: the plan fixed at assembly, who signs which step, and in what order; and the signing
rows as the app layer reads them from the store (nothing here knows SQL).

The rows are frozen and slotted: a row read in a transaction is a fact of that transaction, not something to edit in
place. Columns the store keeps as text with a fixed vocabulary (a record's status, a step's role) are read as str:
the store does not re-check what it wrote.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass(frozen=True, slots=True)
class SigningRecord:
    """A year record version being signed: the documents as signed so far, and whose turn it is.

    ``status`` is collecting, sealing, sealed or cancelled; ``next_order`` is the step whose turn it is (the plan's
    length + 1 once sealed). The sealed documents' content addresses are set with the seal.
    """

    year_record_id: str
    school_id: str
    class_id: str
    student_id: str
    transcript_id: str
    school_year: str
    grade: int
    version: int
    supersedes: str | None
    lookup_code: str
    status: str
    next_order: int
    pdf: bytes
    xml_package: bytes
    record_xml_sha256: str
    pdf_sha256: str | None
    xml_sha256: str | None
    created_at: datetime
    updated_at: datetime
    sealed_at: datetime | None
    seal_attempts: int = 0
    seal_error: str | None = None
    reporting_path: str = "regular"  # regular (30 June) or supplementary (15 August), as assembled


@dataclass(frozen=True, slots=True)
class StuckSeal:
    """A record whose seal keeps failing: the operator's and the principal's to-look-at list."""

    year_record_id: str
    class_id: str
    seal_attempts: int
    seal_error: str | None
    next_try: datetime


@dataclass(frozen=True, slots=True)
class WaitingStep:
    """A step whose turn it is, on a record still collecting signatures: what a signer's to-do list shows.

    Field order is GET /signing/pending's (each item is these fields, then ``order`` again, see app/queries.py).
    """

    year_record_id: str
    school_id: str
    class_id: str
    student_id: str
    school_year: str
    version: int
    step_order: int
    role: str
    field_name: str
    signer_name: str
    on_behalf_of: str | None


@dataclass(frozen=True, slots=True)
class Signer:
    """Someone named by a step of a school's plans, in the role the step names."""

    signer_id: str
    signer_name: str
    role: str


@dataclass(frozen=True, slots=True)
class RecordProgress:
    """A record's signing status and who its next step waits for: the readiness report's input.

    ``waiting_for`` is None once every step is signed (the seal's step done, ``next_order`` past the plan).
    """

    year_record_id: str
    class_id: str
    status: str
    next_order: int
    sealed_at: datetime | None
    waiting_for: Signer | None


@dataclass(frozen=True, slots=True)
class PendingSignature:
    """A signature between its two requests: prepared (the data to be signed sent out), waiting for the value.

    Everything needed to finish it without preparing again: the prepared PDF and the byte range its digest covers,
    the CMS signed attributes, and the XML package with its SignedInfo.
    """

    id: uuid.UUID
    batch_id: uuid.UUID
    year_record_id: str
    step_order: int
    signer_id: str
    certificate: bytes  # DER; the one the signed attributes name
    prepared_pdf: bytes
    document_digest: bytes
    region_start: int
    region_end: int
    signed_attributes: bytes
    xml_package: bytes
    xml_signature_id: str
    xml_signed_info: bytes
    created_at: datetime
