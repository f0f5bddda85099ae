"""The signature plan: each subject teacher signs what they taught, then the homeroom teacher, the principal,
and last the school's seal. Every field is created before the first signature (pyHanko), so the plan is fixed."""

from __future__ import annotations

from collections.abc import Sequence

from services.transcript.domain.model import SignatureStep, SubjectLine


def plan_signatures(
    subjects: Sequence[SubjectLine],
    homeroom: tuple[str, str] | None,
    principal: tuple[str, str],
    school: tuple[str, str],
) -> tuple[SignatureStep, ...]:
    """``homeroom``, ``principal`` and ``school`` are (id, name). One step per distinct teacher, in subject order."""
    steps: list[SignatureStep] = []
    teachers: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for line in subjects:
        teachers.setdefault(line.teacher_id, []).append(line.code)
        names[line.teacher_id] = line.teacher_name
    for teacher_id, codes in teachers.items():
        steps.append(
            SignatureStep(
                len(steps) + 1,
                "subject_teacher",
                f"gv_{len(steps) + 1:02d}",
                teacher_id,
                names[teacher_id],
                tuple(codes),
            )
        )
    if homeroom is not None:
        steps.append(
            SignatureStep(len(steps) + 1, "homeroom_teacher", "gvcn", homeroom[0], homeroom[1], ("homeroom",))
        )
    steps.append(
        SignatureStep(len(steps) + 1, "principal", "hieu_truong", principal[0], principal[1], ("all",))
    )
    steps.append(SignatureStep(len(steps) + 1, "school_seal", "dau_truong", school[0], school[1], ("all",)))
    return tuple(steps)
