"""The audit log's vocabulary: every action a service records, the kind of thing each one changes, and the ids.

The names are a contract. Producers write them into ``AuditRecordedV1``; the audit service's history queries find
a grade value's entries by them; they are stored, hash-chained, in every school's log and in the known-answer
vectors outside verifiers code against. So the wire values below never change: a renamed action would leave the old
entries behind and silently empty a student's grade history. A new action is a new member.

Why a module of its own, and why the audit domain may import it (the one exception to "domain imports nothing from
``contracts``", written as an ``ignore_imports`` line in ``pyproject.toml``): ``services.audit.domain.history`` *is*
the reading of this vocabulary, so it must use the same names the producers use, and the audit service cannot
import a producer (services are independent). The names are plain strings and string functions, so this module
imports only the standard library; an import-linter contract keeps it that way, so the exception lets in no wire
model, no pydantic and no I/O. ``contracts.audit`` re-exports everything here: producers import from there.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "HOMEROOM",
    "AuditAction",
    "EntityType",
    "actions_on",
    "amendment_entity_id",
    "amendment_prefix",
    "award_entity_id",
    "carried_term_entity_id",
    "handed_over_term_entity_id",
    "individual_plan_entity_id",
    "class_term_id",
    "class_term_pattern",
    "dead_letter_id",
    "exemption_entity_id",
    "school_entity_id",
    "value_id",
    "year_record_version_id",
]


class EntityType(StrEnum):
    """The kind of thing an audit entry changed (``AuditRecordedV1.entity_type``)."""

    # One grade value: a subject's marks of a student for a term …
    MARKS = "marks"
    # … or the homeroom teacher's record of a student for a term (conduct, attendance, comment).
    STUDENT_TERM = "student_term"
    CLASS_TERM = "class_term"
    AMENDMENT = "amendment"
    # The principal's decision that a student does not study a subject for a term or the year (miễn học).
    EXEMPTION = "exemption"
    # The principal's award of a title to a student for a school year (khen thưởng: Học sinh Xuất sắc …).
    AWARD = "award"
    # The principal's decision that a student with disabilities is assessed, in the subjects it names, against an
    # individual education plan (kế hoạch giáo dục cá nhân).
    INDIVIDUAL_PLAN = "individual_plan"
    # The term a student who joined during the year studied at the previous school, as the receiving school
    # recorded it from the handed-over record (chuyển trường giữa năm).
    CARRIED_TERM = "carried_term"
    SCHOOL = "school"
    # A master-data import names its kind as the entity type (the rows of one kind, for one school).
    TEACHERS = "teachers"
    CLASSES = "classes"
    STUDENTS = "students"
    ASSIGNMENTS = "assignments"
    YEAR_RECORD = "year_record"
    TRANSCRIPT = "transcript"
    TRANSFER_REQUEST = "transfer_request"
    DEAD_LETTER = "dead_letter"


class AuditAction(StrEnum):
    """Everything a service records in the audit log (``AuditRecordedV1.action``); each changes one kind of entity.

    The history of a grade value reads the actions on ``marks``, ``student_term``, ``class_term`` and
    ``amendment`` (see ``services.audit.domain.history.KINDS``; a test keeps the two in step).
    """

    # gradebook — grade values, the term lock, amendments (biên bản điều chỉnh)
    MARKS_RECORD = "marks.record"
    HOMEROOM_RECORD = "homeroom.record"
    TERM_LOCK = "term.lock"
    TERM_UNLOCK = "term.unlock"
    AMENDMENT_PROPOSE = "amendment.propose"
    AMENDMENT_APPROVE = "amendment.approve"
    AMENDMENT_REJECT = "amendment.reject"
    MARKS_AMEND = "marks.amend"
    HOMEROOM_AMEND = "homeroom.amend"
    # gradebook — the principal's exemptions (miễn học)
    EXEMPTION_DECIDE = "exemption.decide"
    EXEMPTION_REVOKE = "exemption.revoke"
    # gradebook — the principal's awards (khen thưởng)
    AWARD_DECIDE = "award.decide"
    AWARD_REVOKE = "award.revoke"
    # gradebook — the principal's individual education plans (kế hoạch giáo dục cá nhân)
    INDIVIDUAL_PLAN_DECIDE = "individual_plan.decide"
    INDIVIDUAL_PLAN_WITHDRAW = "individual_plan.withdraw"
    # gradebook — a term carried from the previous school (a student who joined during the year)
    CARRIED_TERM_RECORD = "carried_term.record"
    CARRIED_TERM_HAND_OVER = "carried_term.hand_over"
    # gradebook — master data
    SCHOOL_DECLARE = "school.declare"
    MASTER_IMPORT_TEACHERS = "master.import.teachers"
    MASTER_IMPORT_CLASSES = "master.import.classes"
    MASTER_IMPORT_STUDENTS = "master.import.students"
    MASTER_IMPORT_ASSIGNMENTS = "master.import.assignments"
    # transcript — the year record (học bạ of one school year)
    YEAR_RECORD_ASSEMBLE = "year_record.assemble"
    YEAR_RECORD_REASSEMBLE = "year_record.reassemble"
    YEAR_RECORD_DIGITISE = "year_record.digitise"
    # signing
    SIGNATURE_APPLY = "signature.apply"
    RECORD_SEAL = "record.seal"
    SIGNING_CANCEL = "signing.cancel"
    # sync — the province's answer about a submitted record ("province.<status>")
    PROVINCE_ACCEPTED = "province.accepted"
    PROVINCE_REJECTED = "province.rejected"
    PROVINCE_WITHDRAWN = "province.withdrawn"
    PROVINCE_EFFECTIVE = "province.effective"
    # sync — moving a student's học bạ to another school
    TRANSCRIPT_TRANSFER = "transcript.transfer"
    TRANSFER_REQUEST = "transfer.request"
    TRANSFER_APPROVE = "transfer.approve"
    TRANSFER_REFUSE = "transfer.refuse"
    # operators — the dead-letter queues
    DLQ_REPLAY = "dlq.replay"
    DLQ_PURGE = "dlq.purge"

    @property
    def entity_type(self) -> EntityType:
        """The kind of thing this action changes: producers never write it by hand, so the pair cannot drift."""
        return _ENTITY_TYPES[self]


_ENTITY_TYPES: dict[AuditAction, EntityType] = {
    AuditAction.MARKS_RECORD: EntityType.MARKS,
    AuditAction.HOMEROOM_RECORD: EntityType.STUDENT_TERM,
    AuditAction.TERM_LOCK: EntityType.CLASS_TERM,
    AuditAction.TERM_UNLOCK: EntityType.CLASS_TERM,
    AuditAction.AMENDMENT_PROPOSE: EntityType.AMENDMENT,
    AuditAction.AMENDMENT_APPROVE: EntityType.AMENDMENT,
    AuditAction.AMENDMENT_REJECT: EntityType.AMENDMENT,
    AuditAction.MARKS_AMEND: EntityType.MARKS,
    AuditAction.HOMEROOM_AMEND: EntityType.STUDENT_TERM,
    AuditAction.EXEMPTION_DECIDE: EntityType.EXEMPTION,
    AuditAction.EXEMPTION_REVOKE: EntityType.EXEMPTION,
    AuditAction.AWARD_DECIDE: EntityType.AWARD,
    AuditAction.AWARD_REVOKE: EntityType.AWARD,
    AuditAction.INDIVIDUAL_PLAN_DECIDE: EntityType.INDIVIDUAL_PLAN,
    AuditAction.INDIVIDUAL_PLAN_WITHDRAW: EntityType.INDIVIDUAL_PLAN,
    AuditAction.CARRIED_TERM_RECORD: EntityType.CARRIED_TERM,
    AuditAction.CARRIED_TERM_HAND_OVER: EntityType.CARRIED_TERM,
    AuditAction.SCHOOL_DECLARE: EntityType.SCHOOL,
    AuditAction.MASTER_IMPORT_TEACHERS: EntityType.TEACHERS,
    AuditAction.MASTER_IMPORT_CLASSES: EntityType.CLASSES,
    AuditAction.MASTER_IMPORT_STUDENTS: EntityType.STUDENTS,
    AuditAction.MASTER_IMPORT_ASSIGNMENTS: EntityType.ASSIGNMENTS,
    AuditAction.YEAR_RECORD_ASSEMBLE: EntityType.YEAR_RECORD,
    AuditAction.YEAR_RECORD_REASSEMBLE: EntityType.YEAR_RECORD,
    AuditAction.YEAR_RECORD_DIGITISE: EntityType.YEAR_RECORD,
    AuditAction.SIGNATURE_APPLY: EntityType.YEAR_RECORD,
    AuditAction.RECORD_SEAL: EntityType.YEAR_RECORD,
    AuditAction.SIGNING_CANCEL: EntityType.YEAR_RECORD,
    AuditAction.PROVINCE_ACCEPTED: EntityType.YEAR_RECORD,
    AuditAction.PROVINCE_REJECTED: EntityType.YEAR_RECORD,
    AuditAction.PROVINCE_WITHDRAWN: EntityType.YEAR_RECORD,
    AuditAction.PROVINCE_EFFECTIVE: EntityType.YEAR_RECORD,
    AuditAction.TRANSCRIPT_TRANSFER: EntityType.TRANSCRIPT,
    AuditAction.TRANSFER_REQUEST: EntityType.TRANSFER_REQUEST,
    AuditAction.TRANSFER_APPROVE: EntityType.TRANSFER_REQUEST,
    AuditAction.TRANSFER_REFUSE: EntityType.TRANSFER_REQUEST,
    AuditAction.DLQ_REPLAY: EntityType.DEAD_LETTER,
    AuditAction.DLQ_PURGE: EntityType.DEAD_LETTER,
}


def actions_on(entity_type: EntityType) -> frozenset[AuditAction]:
    """Every action that changes an entity of ``entity_type``."""
    return frozenset(a for a in AuditAction if a.entity_type is entity_type)


# -- entity ids ---------------------------------------------------------------------------------------------------
# Ids a reader parses (the grade history) are built here only. Ids that are already opaque ids of their own
# (a year record, a transcript, a transfer request) travel as they are.

# The "subject" of a student's homeroom record, in its value id and in the grade-history URL.
HOMEROOM = "homeroom"


def value_id(*, class_id: str, student_id: str, subject: str | None, term: str) -> str:
    """One grade value: a subject's marks (``subject`` its code) or the homeroom record (``subject`` None or
    ``"homeroom"``) of one student for one term — ``class/<class>/student/<student>/<subject>/<term>``."""
    return f"class/{class_id}/student/{student_id}/{subject or HOMEROOM}/{term}"


def class_term_id(*, class_id: str, school_year: str, term: str) -> str:
    """A class's term, what a lock freezes — ``class/<class>/<school year>/<term>``."""
    return f"class/{class_id}/{school_year}/{term}"


def class_term_pattern(*, class_id: str, term: str) -> tuple[str, str]:
    """The prefix and suffix every :func:`class_term_id` of ``class_id``'s ``term`` has, whatever the school year:
    how the grade history finds the locks of a value's term (class ids are unique across years)."""
    return f"class/{class_id}/", f"/{term}"


def amendment_entity_id(value: str, amendment_id: str) -> str:
    """An amendment request of the grade value ``value`` — ``<value id>/amendment/<amendment id>``."""
    return f"{amendment_prefix(value)}{amendment_id}"


def amendment_prefix(value: str) -> str:
    """What every :func:`amendment_entity_id` of the grade value ``value`` starts with."""
    return f"{value}/amendment/"


def exemption_entity_id(
    *, class_id: str, student_id: str, subject: str, period: str, exemption_id: str
) -> str:
    """A principal's exemption of one student from one subject for a period (hk1, hk2 or year) —
    ``class/<class>/student/<student>/<subject>/<period>/exemption/<exemption id>``."""
    return f"{value_id(class_id=class_id, student_id=student_id, subject=subject, term=period)}/exemption/{exemption_id}"


def individual_plan_entity_id(*, class_id: str, student_id: str, plan_id: str) -> str:
    """A principal's individual education plan for one student for the class's school year —
    ``class/<class>/student/<student>/individual_plan/<plan id>``."""
    return f"class/{class_id}/student/{student_id}/individual_plan/{plan_id}"


def award_entity_id(*, class_id: str, student_id: str, award_id: str) -> str:
    """A principal's award to one student for the class's school year —
    ``class/<class>/student/<student>/award/<award id>``."""
    return f"class/{class_id}/student/{student_id}/award/{award_id}"


def carried_term_entity_id(*, class_id: str, student_id: str, term: str) -> str:
    """The term a student who joined the class during the year carried from the previous school —
    ``class/<class>/student/<student>/carried/<term>``."""
    return f"class/{class_id}/student/{student_id}/carried/{term}"


def handed_over_term_entity_id(*, transcript_id: str, school_year: str, term: str) -> str:
    """A term the sending school's gradebook handed over with a học bạ, in both schools' logs —
    ``transcript/<transcript>/<school year>/carried/<term>``."""
    return f"transcript/{transcript_id}/{school_year}/carried/{term}"


def school_entity_id(school_id: str) -> str:
    """A school, for its declaration and its master-data imports — ``school/<school>``."""
    return f"school/{school_id}"


def year_record_version_id(*, transcript_id: str, school_year: str, version: int) -> str:
    """One version of a student's year record as assembled — ``transcript/<transcript>/<school year>/v<version>``."""
    return f"transcript/{transcript_id}/{school_year}/v{version}"


def dead_letter_id(queue: str, message: str) -> str:
    """A dead letter (or, for a purge, the queue itself) — ``<dead-letter queue>/<message id or queue>``."""
    return f"{queue}/{message}"
