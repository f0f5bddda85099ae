"""The permission rules as a pure table: every role × every action × relationship to the class."""

import pytest

from services.gradebook.domain.permissions import Action, Actor, Target, decide

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
    },
    ("staff", False, False): {Action.READ_CLASS, Action.IMPORT_MASTER_DATA},
    ("inspector", False, False): {Action.READ_CLASS},
    ("operator", False, False): set(),  # operators read no school's marks
}


@pytest.mark.parametrize(("role", "assigned", "homeroom"), list(EXPECTED))
@pytest.mark.parametrize("action", list(Action))
def test_decisions_in_own_school(role, assigned, homeroom, action):
    school = None if role == "operator" else SCHOOL
    decision = decide(Actor("u", frozenset(ROLES[role]), school), action, Target(SCHOOL, assigned, homeroom))
    assert decision.allowed is (action in EXPECTED[(role, assigned, homeroom)])
    assert decision.allowed or decision.reason_vi


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(Action))
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


@pytest.mark.parametrize("action", list(Action))
def test_an_inspector_only_reads_the_schools_their_token_lists(action):
    inspector = Actor("tt", frozenset({"inspector"}), None, frozenset({"sA", "sC"}))
    for school in ("sA", "sC"):
        decision = decide(inspector, action, Target(school, True, True))
        assert decision.allowed is (action is Action.READ_CLASS)  # inspectors never write
    assert not decide(inspector, action, Target("sB", True, True)).allowed


@pytest.mark.parametrize("role", [r for r in ROLES if r != "inspector"] + ["principal+inspector"])
@pytest.mark.parametrize("action", list(Action))
def test_another_role_listing_schools_gains_nothing(role, action):
    roles = frozenset({"principal", "inspector"}) if role == "principal+inspector" else frozenset(ROLES[role])
    actor = Actor("u", roles, "own", frozenset({SCHOOL}))
    decision = decide(actor, action, Target(SCHOOL, True, True))
    assert not decision.allowed and "trường khác" in decision.reason_vi
