"""Exemption use cases (miễn học): the principal decides or revokes one, audited with the reason; anyone who reads
the class lists them. Results leave an exempt subject out from then on (results.py reads them with the marks)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction, exemption_entity_id
from services.gradebook.app.decisions import audit_decision, class_for_decision, decision_or_404
from services.gradebook.app.handlers import class_or_404, refuse_if_locked, require, target_of
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.commands import DecideExemption, RevokeExemption
from services.gradebook.domain.curriculum import circular_of_grade, subject
from services.gradebook.domain.exemption import (
    PERIOD_LABEL,
    Exemption,
    ExemptionRefused,
    check_new,
    entered_in,
)
from services.gradebook.domain.model import ClassInfo
from services.gradebook.domain.permissions import Action, Actor, decide

EXEMPTION_NOT_FOUND = "Không tìm thấy quyết định miễn học này."


def decide_exemption(cmd: DecideExemption, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_for_decision(uow, cmd.actor, Action.DECIDE_EXEMPTION, cmd.class_id, cmd.student_id)
        if uow.classes.assignment(info.id, cmd.subject_code) is None:
            raise ExemptionRefused(f"Lớp {info.name} không học môn “{cmd.subject_code}”.")
        name = subject(cmd.subject_code, info.grade).name
        exemption = Exemption(
            f"mh-{uuid.uuid4().hex[:16]}",
            info.school_id,
            info.id,
            cmd.student_id,
            cmd.subject_code,
            cmd.period,
            cmd.reason,
            cmd.actor.user_id,
            datetime.now(UTC),
        )
        for term in sorted(exemption.terms):  # a locked term changes only by an approved amendment
            refuse_if_locked(uow, info, term)
        check_new(
            exemption,
            uow.exemptions.of_class(info.id, cmd.student_id),
            primary=circular_of_grade(info.grade) == "tt27",
            subject_name=name,
        )
        uow.exemptions.add(exemption)
        _audit(uow, cmd.actor, AuditAction.EXEMPTION_DECIDE, info, exemption)
        entered = uow.sheet.marks_of_student(info.id, cmd.student_id, cmd.subject_code)
        uow.commit()
    # Marks already entered for the exempt terms stay stored (the history keeps them) but count no more.
    return _shown(exemption, name) | {"marks_no_longer_counted": entered_in(exemption.terms, entered)}


def revoke_exemption(cmd: RevokeExemption, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        exemption = decision_or_404(uow.exemptions, cmd.exemption_id, EXEMPTION_NOT_FOUND)
        info = class_for_decision(uow, cmd.actor, Action.DECIDE_EXEMPTION, exemption.class_id)
        for term in sorted(exemption.terms):
            refuse_if_locked(uow, info, term)
        uow.exemptions.remove(exemption)
        _audit(uow, cmd.actor, AuditAction.EXEMPTION_REVOKE, info, exemption, reason=cmd.reason)
        uow.commit()
    return {"id": exemption.id, "revoked": True}


def list_exemptions(actor: Actor, class_id: str, uow: GradebookUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        info = class_or_404(uow, class_id)
        require(decide(actor, Action.READ_CLASS, target_of(uow, actor, info)))
        found = uow.exemptions.of_class(info.id)
    return [_shown(e, subject(e.subject_code, info.grade).name) for e in found]


def _audit(
    uow: GradebookUnitOfWork,
    actor: Actor,
    action: AuditAction,
    info: ClassInfo,
    exemption: Exemption,
    *,
    reason: str | None = None,
) -> None:
    """Like the principal's other interventions (a lock accepting gaps): the fact, its period and the reason."""
    audit_decision(
        uow,
        actor,
        action,
        exemption_entity_id(
            class_id=info.id,
            student_id=exemption.student_id,
            subject=exemption.subject_code,
            period=exemption.period,
            exemption_id=exemption.id,
        ),
        info,
        {"subject_code": exemption.subject_code, "period": exemption.period, "reason": exemption.reason},
        taken=action is AuditAction.EXEMPTION_DECIDE,
        label=f"miễn học {PERIOD_LABEL[exemption.period]}",
        reason=reason or exemption.reason,
    )


def _shown(e: Exemption, subject_name: str) -> dict[str, Any]:
    return {
        "id": e.id,
        "class_id": e.class_id,
        "student_id": e.student_id,
        "subject_code": e.subject_code,
        "subject_name": subject_name,
        "period": e.period,
        "reason": e.reason,
        "decided_by": e.decided_by,
        "decided_at": e.decided_at.isoformat(),
    }
