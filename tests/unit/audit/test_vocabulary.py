"""The audit vocabulary: the names producers write are the names the grade history reads, and they never drift."""

import ast
import functools
from datetime import UTC, datetime
from pathlib import Path

from contracts.audit import (
    AuditAction,
    AuditRecordedV1,
    EntityType,
    amendment_entity_id,
    amendment_prefix,
    class_term_id,
    class_term_pattern,
    school_entity_id,
    value_id,
    year_record_version_id,
)
from services.audit.domain import history
from services.gradebook.app.handlers import entity_of
from services.gradebook.domain import roster
from services.gradebook.domain.model import ClassInfo
from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[3]

# The first entry of the audit hash's known-answer vectors (test_hash_format.py): how a grade value is named there.
VECTOR = {"action": "marks.record", "entity_type": "marks", "entity_id": "class/8a1/student/hs-01/toan/hk1"}

# Every action name in stored audit chains. Renaming one would hide every entry written under the old name (a
# student's grade history would come back empty), so this list only ever grows.
STORED_ACTIONS = {
    "marks.record",
    "homeroom.record",
    "term.lock",
    "term.unlock",
    "amendment.propose",
    "amendment.approve",
    "amendment.reject",
    "marks.amend",
    "homeroom.amend",
    "exemption.decide",
    "exemption.revoke",
    "award.decide",
    "award.revoke",
    "individual_plan.decide",
    "individual_plan.withdraw",
    "carried_term.record",
    "carried_term.hand_over",
    "school.declare",
    "master.import.teachers",
    "master.import.classes",
    "master.import.students",
    "master.import.assignments",
    "year_record.assemble",
    "year_record.reassemble",
    "year_record.digitise",
    "signature.apply",
    "record.seal",
    "signing.cancel",
    "province.accepted",
    "province.rejected",
    "province.withdrawn",
    "province.effective",
    "transcript.transfer",
    "transfer.request",
    "transfer.approve",
    "transfer.refuse",
    "dlq.replay",
    "dlq.purge",
}


@functools.cache  # two tests read them: parsed once
def _producer_sources() -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of every service that may emit an audit event (the audit service only reads them)."""
    return tuple(
        (path, ast.parse(path.read_text(), str(path)))
        for path in sorted((ROOT / "services").rglob("*.py"))
        if "audit" not in path.relative_to(ROOT / "services").parts[:1]
    )


def _announced_statuses() -> set[str]:
    """The statuses sync announces, each recorded as ``province.<status>``."""
    found = set()
    for path, tree in _producer_sources():
        if path.parts[-3:-1] != ("sync", "app"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_announce":
                status = node.args[2]
                assert isinstance(status, ast.Constant), (
                    f"{path}:{node.lineno}: a status this test cannot read"
                )
                found.add(status.value)
    return found


def _emitted_actions() -> set[str]:
    """Every action a producer can emit, read from the code: each ``AuditAction.X`` it names, and each action it
    builds from a family prefix (``AuditAction(f"province.{status}")``) expanded over the family's members."""
    families = {
        "master.import.": set(roster.KINDS),
        "province.": _announced_statuses(),
    }
    emitted = set()
    for path, tree in _producer_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "AuditAction":
                assert node.attr in AuditAction.__members__, f"{path}:{node.lineno}: AuditAction.{node.attr}"
                emitted.add(AuditAction[node.attr].value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AuditAction":
                (arg,) = node.args
                assert isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant)
                prefix = arg.values[0].value
                assert prefix in families, f"{path}:{node.lineno}: teach this test the {prefix}* actions"
                emitted |= {f"{prefix}{member}" for member in families[prefix]}
    return emitted


def test_the_wire_names_are_the_ones_in_stored_chains():
    assert {a.value for a in AuditAction} == STORED_ACTIONS


def test_every_action_a_service_emits_is_in_the_vocabulary_and_every_name_is_emitted():
    emitted = _emitted_actions()
    assert emitted - STORED_ACTIONS == set(), "an action outside the vocabulary"
    assert STORED_ACTIONS - emitted == set(), (
        "a name no service emits any more: its old entries still need it"
    )


def test_every_action_on_a_grade_value_has_a_kind_in_the_history():
    on_grades = {a for a in AuditAction if a.entity_type in history.GRADE_ENTITY_TYPES}
    assert on_grades == set(history.KINDS), (
        "each action on a value, its amendment or its term shows in history"
    )
    assert {AuditAction.MARKS_RECORD, AuditAction.TERM_LOCK, AuditAction.AMENDMENT_APPROVE} <= on_grades
    assert history.APPROVALS.issubset(history.KINDS)


def test_every_action_names_the_kind_of_entity_it_changes():
    assert {a: a.entity_type for a in AuditAction}.keys() == set(AuditAction)
    assert AuditAction.TERM_LOCK.entity_type is EntityType.CLASS_TERM
    assert AuditAction.HOMEROOM_AMEND.entity_type is EntityType.STUDENT_TERM


def test_no_service_builds_an_audit_event_by_hand():
    """Producers go through ``uow.audit`` or ``AuditRecordedV1.of``, which take an ``AuditAction``: a typo in an
    action name is then a type error, never a silently empty history."""
    by_hand = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _producer_sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AuditRecordedV1"
    ]
    assert by_hand == []


def test_a_value_id_is_the_format_of_the_known_answer_vector_and_the_gradebooks():
    assert value_id(class_id="8a1", student_id="hs-01", subject="toan", term="hk1") == VECTOR["entity_id"]
    assert value_id(class_id="8a1", student_id="hs-01", subject=None, term="hk2") == (
        "class/8a1/student/hs-01/homeroom/hk2"
    )
    info = ClassInfo("8a1", "s-1", "2025-2026", "8A1", 8, None, True)
    # The history URL names the homeroom record "homeroom"; the gradebook's subject is then None.
    assert history.value_id(class_id="8a1", student_id="hs-01", subject="homeroom", term="hk2") == entity_of(
        info, "hs-01", None, "hk2"
    )
    assert history.value_id(class_id="8a1", student_id="hs-01", subject="toan", term="hk1") == entity_of(
        info, "hs-01", "toan", "hk1"
    )


def test_the_history_finds_a_class_terms_lock_and_only_that_terms():
    prefix, suffix = class_term_pattern(class_id="8a1", term="hk1")
    lock = class_term_id(class_id="8a1", school_year="2025-2026", term="hk1")
    assert lock == "class/8a1/2025-2026/hk1"
    assert lock.startswith(prefix) and lock.endswith(suffix)
    for other in (
        class_term_id(class_id="8a1", school_year="2025-2026", term="hk2"),
        class_term_id(class_id="8a10", school_year="2025-2026", term="hk1"),
    ):
        assert not (other.startswith(prefix) and other.endswith(suffix)), other


def test_the_history_finds_a_values_amendments_and_only_that_values():
    value = value_id(class_id="8a1", student_id="hs-1", subject="toan", term="hk1")
    amendment = amendment_entity_id(value, "bb-7")
    assert amendment == "class/8a1/student/hs-1/toan/hk1/amendment/bb-7"
    assert amendment.startswith(amendment_prefix(value))
    neighbour = value_id(class_id="8a1", student_id="hs-10", subject="toan", term="hk1")
    assert not amendment_entity_id(neighbour, "bb-8").startswith(amendment_prefix(value))


def test_the_other_ids_keep_their_stored_formats():
    assert school_entity_id("s-1") == "school/s-1"
    assert year_record_version_id(transcript_id="t-1", school_year="2025-2026", version=2) == (
        "transcript/t-1/2025-2026/v2"
    )


def test_an_event_built_from_the_vocabulary_is_the_known_answer_vectors_on_the_wire():
    event = AuditRecordedV1.of(
        AuditAction.MARKS_RECORD,
        service="gradebook",
        entity=value_id(class_id="8a1", student_id="hs-01", subject="toan", term="hk1"),
        actor="gv-01",
        role="teacher",
        school_id="s-kiem-thu",
        changes={"final": "6 → 7"},
        reason="Chấm lại",
    )
    wire = event.model_dump(mode="json")
    assert {k: wire[k] for k in VECTOR} == VECTOR
    assert type(event.action) is str and type(event.entity_type) is str  # plain strings, not enum members


def test_the_unit_of_work_records_under_its_service_and_queues_until_commit():
    uow = SqlUnitOfWork(lambda: None, Outbox("signing", None), Inbox(None))  # type: ignore[arg-type]
    before = datetime.now(UTC)
    event = uow.audit(
        AuditAction.RECORD_SEAL,
        entity="yr-1",
        actor="seal:s-1",
        role="system",
        school_id="s-1",
        subject="yr-1",
    )
    assert (event.service, event.action, event.entity_type, event.entity_id) == (
        "signing",
        "record.seal",
        "year_record",
        "yr-1",
    )
    assert (event.actor_id, event.actor_role, event.school_id) == ("seal:s-1", "system", "s-1")
    assert before <= event.occurred_at <= datetime.now(UTC)
    assert uow._pending == [(event, "yr-1")]
