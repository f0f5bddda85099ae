"""Individual education plan use cases (kế hoạch giáo dục cá nhân): the principal records or withdraws a student's
plan for the year, audited with the reason; anyone who reads the class lists them. The results (results.py) and the
lock's snapshot read them with the marks; marks entry checks a plan subject's entries (individual_plan.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction, individual_plan_entity_id
from services.gradebook.app.decisions import audit_decision, class_for_decision, decision_or_404
from services.gradebook.app.handlers import class_or_404, refuse_if_locked, require, target_of
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.commands import DecideIndividualPlan, WithdrawIndividualPlan
from services.gradebook.domain.curriculum import subject
from services.gradebook.domain.individual_plan import IndividualPlan, check_new
from services.gradebook.domain.model import ClassInfo
from services.gradebook.domain.permissions import Action, Actor, decide

PLAN_NOT_FOUND = "Không tìm thấy kế hoạch giáo dục cá nhân này."


def decide_plan(cmd: DecideIndividualPlan, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_for_decision(uow, cmd.actor, Action.DECIDE_INDIVIDUAL_PLAN, cmd.class_id, cmd.student_id)
        plan = IndividualPlan(
            f"kh-{uuid.uuid4().hex[:16]}",
            info.school_id,
            info.id,
            cmd.student_id,
            cmd.subjects,
            cmd.reason,
            cmd.actor.user_id,
            datetime.now(UTC),
        )
        for term in ("hk1", "hk2"):  # the plan is the year's: a locked term changes only by an amendment
            refuse_if_locked(uow, info, term)
        studied = {
            a.subject_code: subject(a.subject_code, info.grade).name for a in uow.classes.assignments(info.id)
        }
        check_new(plan, uow.plans.of_class(info.id, cmd.student_id), studied)
        uow.plans.add(plan)
        _audit(uow, cmd.actor, AuditAction.INDIVIDUAL_PLAN_DECIDE, info, plan, taken=True, reason=plan.reason)
        uow.commit()
    return _shown(plan, info)


def withdraw_plan(cmd: WithdrawIndividualPlan, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        plan = decision_or_404(uow.plans, cmd.plan_id, PLAN_NOT_FOUND)
        info = class_for_decision(uow, cmd.actor, Action.DECIDE_INDIVIDUAL_PLAN, plan.class_id)
        for term in ("hk1", "hk2"):
            refuse_if_locked(uow, info, term)
        uow.plans.remove(plan)
        _audit(
            uow, cmd.actor, AuditAction.INDIVIDUAL_PLAN_WITHDRAW, info, plan, taken=False, reason=cmd.reason
        )
        uow.commit()
    return {"id": plan.id, "withdrawn": True}


def list_plans(actor: Actor, class_id: str, uow: GradebookUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        info = class_or_404(uow, class_id)
        require(decide(actor, Action.READ_CLASS, target_of(uow, actor, info)))
        found = uow.plans.of_class(info.id)
    return [_shown(p, info) for p in found]


def _audit(
    uow: GradebookUnitOfWork,
    actor: Actor,
    action: AuditAction,
    info: ClassInfo,
    plan: IndividualPlan,
    *,
    taken: bool,
    reason: str,
) -> None:
    audit_decision(
        uow,
        actor,
        action,
        individual_plan_entity_id(class_id=info.id, student_id=plan.student_id, plan_id=plan.id),
        info,
        {"subjects": list(plan.subjects), "reason": plan.reason},
        taken=taken,
        label=f"kế hoạch giáo dục cá nhân ({', '.join(plan.subjects)})",
        reason=reason,
    )


def _shown(p: IndividualPlan, info: ClassInfo) -> dict[str, Any]:
    return {
        "id": p.id,
        "class_id": p.class_id,
        "student_id": p.student_id,
        "subjects": [{"code": c, "name": subject(c, info.grade).name} for c in p.subjects],
        "reason": p.reason,
        "decided_by": p.decided_by,
        "decided_at": p.decided_at.isoformat(),
    }
