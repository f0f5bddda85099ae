"""The signature plan: each subject teacher signs what they taught, then the homeroom teacher, the principal,
and last the school's seal. Every field is created before the first signature (pyHanko), so the plan is fixed.

Each school signs only what it assessed (rules.md, "Cases every school has"; issue 17 item 5). A student who joined
during the year brings a term another school assessed (the XML's ``Term/@assessedBy``, ``Period/@schoolId``). The
project's decision for such a record:

- a subject teacher's step covers ``<code>:hk2`` and ``<code>:year`` for a subject whose term I another school
  assessed — the term they assessed and the year computed from it — instead of ``<code>`` (the whole row), so no
  teacher is asked to vouch for a term-I result they did not give; a subject with nothing carried is covered whole;
- the homeroom teacher likewise covers ``homeroom:hk2`` and ``homeroom:year`` when the conduct of term I is the other
  school's;
- the principal and the school's seal still cover ``all``: they approve and seal the receiving school's year record
  as a document — that the carried term was transcribed from the handed-over record and the year computed from it —
  while the record itself says, in the signed XML and on the page, which school assessed each term. The sending
  school signs what it assessed in its own records (its sealed earlier years; its term-I lock, which the handover
  carries), never in the receiving school's record.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.transcript.domain.model import SignatureStep, SignerRole, SubjectLine


def plan_signatures(
    subjects: Sequence[SubjectLine],
    homeroom: tuple[str, str] | None,
    principal: tuple[str, str],
    school: tuple[str, str],
    departed: frozenset[str] = frozenset(),
    conduct_elsewhere: frozenset[str] = frozenset(),
) -> tuple[SignatureStep, ...]:
    """``homeroom``, ``principal`` and ``school`` are (id, name). One step per distinct teacher, in subject order.
    ``conduct_elsewhere``: the terms whose homeroom record (conduct, absences) another school gave.

    For a digitised earlier year, teachers who have left (``departed`` ids) cannot sign: the principal signs their
    step on their behalf, and the step says so.
    """
    steps: list[SignatureStep] = []
    teachers: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for line in subjects:
        teachers.setdefault(line.teacher_id, []).extend(_covered(line.code, _elsewhere(line)))
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
        steps.append(step("homeroom_teacher", "gvcn", homeroom, _covered("homeroom", conduct_elsewhere)))
    steps.append(step("principal", "hieu_truong", principal, ("all",)))
    steps.append(step("school_seal", "dau_truong", school, ("all",)))
    return tuple(steps)


def _elsewhere(line: SubjectLine) -> frozenset[str]:
    """The terms of the subject another school assessed."""
    return frozenset(
        term
        for term, marks in (("hk1", line.hk1), ("hk2", line.hk2))
        if marks and marks.assessed_by is not None
    )


def _covered(what: str, elsewhere: frozenset[str]) -> tuple[str, ...]:
    """The whole row, or the periods this school assessed (its terms and the year it computed)."""
    if not elsewhere:
        return (what,)
    return tuple(f"{what}:{period}" for period in ("hk1", "hk2", "year") if period not in elsewhere)
