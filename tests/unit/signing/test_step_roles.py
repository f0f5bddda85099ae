"""Each step is signed with the role it names: the person in the plan is not enough (a clerk types digitised plans)."""

import pytest

from services.signing.domain.errors import NotYourTurn, WrongSigner
from services.signing.domain.model import Step
from services.signing.domain.workflow import check_turn, required_role

TEACHER = Step(1, "subject_teacher", "gv_01", "gv-toan", "Phan Văn Toán", ("toan",))
FOR_DEPARTED = Step(2, "subject_teacher", "gv_02", "ht-1", "Đinh Văn Hiệu", ("ly",), on_behalf_of="Lê Văn Cũ")
HOMEROOM = Step(3, "homeroom_teacher", "gvcn", "gv-van", "Lê Thị Văn", ("homeroom",))
PRINCIPAL = Step(4, "principal", "hieu_truong", "ht-1", "Đinh Văn Hiệu", ("all",))


def turn(step: Step, *roles: str, caller: str | None = None) -> None:
    check_turn(
        status="collecting",
        next_order=step.order,
        step=step,
        caller_id=caller or step.signer_id,
        caller_roles=frozenset(roles),
    )


def test_each_step_needs_the_token_role_it_names_and_a_step_for_a_departed_teacher_is_the_principal_s():
    assert [required_role(s.role, s.on_behalf_of) for s in (TEACHER, FOR_DEPARTED, HOMEROOM, PRINCIPAL)] == [
        "teacher",
        "principal",
        "homeroom",
        "principal",
    ]
    turn(TEACHER, "teacher")
    turn(FOR_DEPARTED, "principal")
    turn(HOMEROOM, "teacher", "homeroom")
    turn(PRINCIPAL, "principal")


@pytest.mark.parametrize(
    ("step", "roles", "needed"),
    [
        (PRINCIPAL, ("teacher", "homeroom"), "hiệu trưởng"),
        (FOR_DEPARTED, ("teacher",), "hiệu trưởng"),
        (HOMEROOM, ("teacher",), "giáo viên chủ nhiệm"),
        (TEACHER, ("principal", "homeroom"), "giáo viên"),
    ],
    ids=[
        "principal-with-teacher-token",
        "for-departed-with-teacher-token",
        "homeroom-without-role",
        "teacher",
    ],
)
def test_the_named_person_with_another_role_s_token_is_refused_saying_which_role(step, roles, needed):
    with pytest.raises(WrongSigner) as refused:
        turn(step, *roles)
    assert f"vai trò {needed} của trường" in refused.value.detail_vi


def test_the_role_does_not_replace_the_person_nor_the_turn():
    with pytest.raises(WrongSigner):
        turn(PRINCIPAL, "principal", caller="ht-khac")
    with pytest.raises(NotYourTurn):
        check_turn(
            status="collecting",
            next_order=3,
            step=PRINCIPAL,
            caller_id="ht-1",
            caller_roles=frozenset({"principal"}),
        )
