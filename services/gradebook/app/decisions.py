"""The plumbing every per-student decision of the principal shares (exemptions, awards, individual education plans):
open the class under the writers' share lock and check the decision is the actor's to take, find a decision by id
within its school, and audit the decision or its revocation with the reason."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from contracts.audit import AuditAction
from services.gradebook.app.audit import audit_change
from services.gradebook.app.handlers import class_or_404, require, target_of
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.errors import NotFound
from services.gradebook.domain.model import ClassInfo
from services.gradebook.domain.permissions import Action, Actor, decide

STUDENT_NOT_IN_CLASS = "Học sinh không thuộc lớp này."

D = TypeVar("D")
D_co = TypeVar("D_co", covariant=True)


class Decisions(Protocol[D_co]):
    def school_of(self, decision_id: str) -> str | None: ...
    def get(self, school_id: str, decision_id: str) -> D_co | None: ...


def class_for_decision(
    uow: GradebookUnitOfWork, actor: Actor, action: Action, class_id: str, student_id: str | None = None
) -> ClassInfo:
    """The class, share-locked like every writer (a term lock waits for the decision or the decision for it), once
    ``action`` is the actor's there; with ``student_id``, the student looked up in this class only, so another
    school's student is unknown here (404)."""
    info = class_or_404(uow, class_id, guard="share")
    require(decide(actor, action, target_of(uow, actor, info)))
    if student_id is not None and not any(s.id == student_id for s in uow.classes.roster(info.id)):
        raise NotFound(STUDENT_NOT_IN_CLASS)
    return info


def decision_or_404(decisions: Decisions[D], decision_id: str, not_found: str) -> D:
    """A decision by its id, read within its own school; unknown ids answer like another school's."""
    school_id = decisions.school_of(decision_id)
    found = None if school_id is None else decisions.get(school_id, decision_id)
    if found is None:
        raise NotFound(not_found)
    return found


def audit_decision(
    uow: GradebookUnitOfWork,
    actor: Actor,
    action: AuditAction,
    entity: str,
    info: ClassInfo,
    content: dict[str, Any],
    *,
    taken: bool,
    label: str,
    reason: str,
) -> None:
    """The decision's content hashed after it when ``taken``, before it when revoked; ``label``: what changed, in
    Vietnamese (e.g. "miễn học cả năm"); ``reason``: the decision's, or the revocation's."""
    audit_change(
        uow,
        actor,
        action,
        entity,
        school_id=info.school_id,
        before=None if taken else content,
        after=content if taken else None,
        changes={label: "không → có" if taken else "có → không"},
        reason=reason,
    )
