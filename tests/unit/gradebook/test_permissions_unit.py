"""The permission rules as a pure table: every role × every action × relationship to the class."""

import pytest

from services.gradebook.domain.permissions import Action, Actor, Target, admit, decide

SCHOOL = "s1"
ROLES = {
    "teacher": {"teacher"},
    "homeroom": {"teacher", "homeroom"},
    "principal": {"principal"},
    "staff": {"staff"},
    "inspector": {"inspector"},
    "operator": {"operator"},
}
# (role, assigned, homeroom) → actions allowed in the current year
EXPECTED = {
    ("teacher", True, False): {Action.READ_CLASS, Action.WRITE_MARKS, Action.PROPOSE_AMENDMENT},
    ("teacher", False, False): set(),
    ("homeroom", False, True): {Action.READ_CLASS, Action.WRITE_HOMEROOM, Action.PROPOSE_AMENDMENT},
    ("homeroom", True, True): {
        Action.READ_CLASS,
        Action.WRITE_MARKS,
        Action.WRITE_HOMEROOM,
        Action.PROPOSE_AMENDMENT,
    },
    ("principal", False, False): {
        Action.READ_CLASS,
        Action.LOCK_TERM,
        Action.UNLOCK_TERM,
        Action.DECIDE_AMENDMENT,
        Action.IMPORT_MASTER_DATA,
        Action.READ_AMENDMENTS,
        Action.DECIDE_EXEMPTION,
        Action.DECIDE_AWARD,
        Action.DECIDE_INDIVIDUAL_PLAN,
        Action.RECORD_CARRIED_TERM,
    },
    ("staff", False, False): {
        Action.READ_CLASS,
        Action.IMPORT_MASTER_DATA,
        Action.DECLARE_SCHOOL,
        Action.RECORD_CARRIED_TERM,
    },
    ("inspector", False, False): {Action.READ_CLASS, Action.READ_AMENDMENTS},
    ("operator", False, False): {Action.DECLARE_SCHOOL},  # operators read no school's marks
}
# What an operator does for any school: run the platform.
OPERATOR_ANYWHERE = {Action.DECLARE_SCHOOL}


@pytest.mark.parametrize(("role", "assigned", "homeroom"), list(EXPECTED))
@pytest.mark.parametrize("action", list(Action))
def test_decisions_in_own_school(role, assigned, homeroom, action):
    school = None if role == "operator" else SCHOOL
    # An assigned teacher amends their subject's marks; a homeroom teacher the homeroom record.
    target = Target(SCHOOL, assigned, homeroom, of_subject=assigned)
    decision = decide(Actor("u", frozenset(ROLES[role]), school), action, target)
    assert decision.allowed is (action in EXPECTED[(role, assigned, homeroom)])
    assert decision.allowed or decision.reason_vi


def _except_operator_anywhere(roles):
    """Every (role, action), but the operator's platform actions (test_the_operator_declares_any_school…)."""
    return [(r, a) for r in roles for a in Action if not (r == "operator" and a in OPERATOR_ANYWHERE)]


@pytest.mark.parametrize(("role", "action"), _except_operator_anywhere(ROLES))
def test_nothing_is_allowed_in_another_school(role, action):
    school = None if role == "operator" else "other"
    decision = decide(Actor("u", frozenset(ROLES[role]), school), action, Target(SCHOOL, True, True))
    assert not decision.allowed and "trường khác" in decision.reason_vi


def test_entry_is_only_for_the_current_year():
    actor = Actor("u", frozenset({"teacher", "homeroom"}), SCHOOL)
    past = Target(SCHOOL, assigned=True, homeroom=True, current_year=False)
    assert not decide(actor, Action.WRITE_MARKS, past).allowed
    assert not decide(actor, Action.WRITE_HOMEROOM, past).allowed
    assert decide(actor, Action.READ_CLASS, past).allowed
    principal = Actor("ht", frozenset({"principal"}), SCHOOL)
    assert not decide(principal, Action.DECIDE_EXEMPTION, past).allowed
    assert not decide(principal, Action.DECIDE_AWARD, past).allowed
    assert not decide(principal, Action.DECIDE_INDIVIDUAL_PLAN, past).allowed


@pytest.mark.parametrize("action", list(Action))
def test_an_inspector_only_reads_the_schools_their_token_lists(action):
    inspector = Actor("tt", frozenset({"inspector"}), None, frozenset({"sA", "sC"}))
    for school in ("sA", "sC"):
        decision = decide(inspector, action, Target(school, True, True))
        assert decision.allowed is (action in {Action.READ_CLASS, Action.READ_AMENDMENTS})  # never write
    assert not decide(inspector, action, Target("sB", True, True)).allowed


@pytest.mark.parametrize(
    ("role", "action"),
    _except_operator_anywhere([r for r in ROLES if r != "inspector"] + ["principal+inspector"]),
)
def test_another_role_listing_schools_gains_nothing(role, action):
    roles = frozenset({"principal", "inspector"}) if role == "principal+inspector" else frozenset(ROLES[role])
    actor = Actor("u", roles, "own", frozenset({SCHOOL}))
    decision = decide(actor, action, Target(SCHOOL, True, True))
    assert not decision.allowed and "trường khác" in decision.reason_vi


@pytest.mark.parametrize("school", [None, "own", SCHOOL])
def test_the_operator_declares_any_school_and_reads_none(school):
    operator = Actor("ops", frozenset({"operator"}), school)
    assert decide(operator, Action.DECLARE_SCHOOL, Target("any-school")).allowed
    assert not decide(operator, Action.READ_CLASS, Target("any-school")).allowed
    assert not decide(operator, Action.READ_AMENDMENTS, Target("any-school")).allowed


def test_a_subject_is_amended_by_its_teacher_and_the_homeroom_record_by_the_homeroom_teacher():
    both = Actor("u", frozenset({"teacher", "homeroom"}), SCHOOL)
    homeroom_only = Target(SCHOOL, assigned=False, homeroom=True, of_subject=True)
    refused = decide(both, Action.PROPOSE_AMENDMENT, homeroom_only)
    assert not refused.allowed and "điểm môn" in refused.reason_vi
    teacher_only = Target(SCHOOL, assigned=True, homeroom=False, of_subject=False)
    refused = decide(both, Action.PROPOSE_AMENDMENT, teacher_only)
    assert not refused.allowed and "chủ nhiệm" in refused.reason_vi
    assert decide(both, Action.PROPOSE_AMENDMENT, Target(SCHOOL, True, False, of_subject=True)).allowed
    assert decide(both, Action.PROPOSE_AMENDMENT, Target(SCHOOL, False, True, of_subject=False)).allowed


def test_the_route_gate_hides_other_schools_and_unknown_things_then_checks_the_role():
    principal = Actor("p", frozenset({"principal"}), SCHOOL)
    assert admit(principal, None, ("principal",)).hidden
    assert admit(principal, "other", ("principal",)).hidden
    refused = admit(principal, SCHOOL, ("teacher",))
    assert not refused.allowed and not refused.hidden and refused.reason_vi
    assert admit(principal, SCHOOL, ("principal",)).allowed
    operator = Actor("ops", frozenset({"operator"}), None)
    assert admit(operator, SCHOOL, ("operator", "staff")).allowed
    assert admit(operator, SCHOOL, ("principal",)).hidden  # a route not open to operators hides the school
