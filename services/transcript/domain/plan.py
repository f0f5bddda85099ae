"""The signature plan: each subject teacher signs what they taught, then the homeroom teacher, the principal,
and last the school's seal. Every field is created before the first signature (pyHanko), so the plan is fixed."""

from __future__ import annotations

from collections.abc import Sequence

from services.transcript.domain.model import SignatureStep, SignerRole, SubjectLine


def plan_signatures(
    subjects: Sequence[SubjectLine],
    homeroom: tuple[str, str] | None,
    principal: tuple[str, str],
    school: tuple[str, str],
    departed: frozenset[str] = frozenset(),
) -> tuple[SignatureStep, ...]:
    """``homeroom``, ``principal`` and ``school`` are (id, name). One step per distinct teacher, in subject order.

    For a digitised earlier year, teachers who have left (``departed`` ids) cannot sign: the principal signs their
    step on their behalf, and the step says so.
    """
    steps: list[SignatureStep] = []
    teachers: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for line in subjects:
        teachers.setdefault(line.teacher_id, []).append(line.code)
        names[line.teacher_id] = line.teacher_name

    def step(role: SignerRole, field: str, person: tuple[str, str], covers: tuple[str, ...]) -> SignatureStep:
        if person[0] in departed:
            return SignatureStep(
                len(steps) + 1,
                role,
                field,
                principal[0],
                principal[1],
                covers,
                on_behalf_of=person[1],
            )
        return SignatureStep(len(steps) + 1, role, field, person[0], person[1], covers)

    for teacher_id, codes in teachers.items():
        steps.append(
            step("subject_teacher", f"gv_{len(steps) + 1:02d}", (teacher_id, names[teacher_id]), tuple(codes))
        )
    if homeroom is not None:
        steps.append(step("homeroom_teacher", "gvcn", homeroom, ("homeroom",)))
    steps.append(step("principal", "hieu_truong", principal, ("all",)))
    steps.append(step("school_seal", "dau_truong", school, ("all",)))
    return tuple(steps)
