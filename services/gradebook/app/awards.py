"""Award use cases (khen thưởng): the principal gives or revokes a student's title for the year, audited with the
reason; anyone who reads the class lists them. The year's lock carries them to the học bạ (snapshot.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.audit import AuditAction, award_entity_id
from services.gradebook.app.decisions import audit_decision, class_for_decision, decision_or_404
from services.gradebook.app.handlers import class_or_404, require, target_of
from services.gradebook.app.snapshot import student_computation
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.award import Award, check_new, refusal
from services.gradebook.domain.commands import DecideAward, RevokeAward
from services.gradebook.domain.curriculum import circular_of_grade
from services.gradebook.domain.errors import TermIsLocked
from services.gradebook.domain.model import ClassInfo
from services.gradebook.domain.permissions import Action, Actor, decide

AWARD_NOT_FOUND = "Không tìm thấy quyết định khen thưởng này."


def decide_award(cmd: DecideAward, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        info = class_for_decision(uow, cmd.actor, Action.DECIDE_AWARD, cmd.class_id, cmd.student_id)
        _refuse_if_year_locked(uow, info)
        award = Award(
            f"kt-{uuid.uuid4().hex[:16]}",
            info.school_id,
            info.id,
            cmd.student_id,
            cmd.kind,
            cmd.reason,
            cmd.actor.user_id,
            datetime.now(UTC),
        )
        results = student_computation(uow, info, cmd.student_id)
        check_new(
            award, uow.awards.of_class(info.id, cmd.student_id), circular_of_grade(info.grade), results.year
        )
        uow.awards.add(award)
        _audit(uow, cmd.actor, AuditAction.AWARD_DECIDE, info, award)
        uow.commit()
    return shown(award)


def revoke_award(cmd: RevokeAward, uow: GradebookUnitOfWork) -> dict[str, Any]:
    with uow:
        award = decision_or_404(uow.awards, cmd.award_id, AWARD_NOT_FOUND)
        info = class_for_decision(uow, cmd.actor, Action.DECIDE_AWARD, award.class_id)
        _refuse_if_year_locked(uow, info)
        uow.awards.remove(award)
        _audit(uow, cmd.actor, AuditAction.AWARD_REVOKE, info, award, reason=cmd.reason)
        uow.commit()
    return {"id": award.id, "revoked": True}


def list_awards(actor: Actor, class_id: str, uow: GradebookUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        info = class_or_404(uow, class_id)
        require(decide(actor, Action.READ_CLASS, target_of(uow, actor, info)))
        found = uow.awards.of_class(info.id)
    return [shown(a) for a in found]


def revoke_unfit(
    uow: GradebookUnitOfWork, actor: Actor, info: ClassInfo, student_id: str, amendment_id: str
) -> list[str]:
    """After an approved amendment (biên bản điều chỉnh) changed ``student_id``'s results: each of their awards the
    results no longer allow is revoked in the same transaction, audited under the approving principal with the
    amendment as the reason, so the new snapshot (and the học bạ's new version) never prints it. Project decision:
    the principal who approves the amendment decides its consequence; the titles revoked are in the answer."""
    results = student_computation(uow, info, student_id)
    revoked = []
    for award in uow.awards.of_class(info.id, student_id):
        why = refusal(award.kind, circular_of_grade(info.grade), results.year)
        if why is None:
            continue
        uow.awards.remove(award)
        _audit(
            uow,
            actor,
            AuditAction.AWARD_REVOKE,
            info,
            award,
            reason=f"Biên bản điều chỉnh {amendment_id} được phê duyệt: {why}",
        )
        revoked.append(award.title)
    return revoked


def _refuse_if_year_locked(uow: GradebookUnitOfWork, info: ClassInfo) -> None:
    """The year's lock (term II) seals the awards with the results (domain/award.py): after it, the principal
    unlocks term II to change them, so the học bạ gets a new version."""
    if uow.term_locks.is_locked(info.id, "hk2") is not None:
        raise TermIsLocked(
            f"Năm học của lớp {info.name} đã khóa (học kỳ II): khen thưởng được ghi trước khi khóa. "
            "Để thay đổi, hiệu trưởng mở khóa học kỳ II (có lý do, được ghi nhật ký), ghi khen thưởng rồi khóa "
            "lại; học bạ sẽ có phiên bản mới. Sau khi đã khóa hè thì không mở khóa được nữa."
        )


def _audit(
    uow: GradebookUnitOfWork,
    actor: Actor,
    action: AuditAction,
    info: ClassInfo,
    award: Award,
    *,
    reason: str | None = None,
) -> None:
    """Like exemptions: the decision's content hashed after it (a decision) or before it (a revocation)."""
    audit_decision(
        uow,
        actor,
        action,
        award_entity_id(class_id=info.id, student_id=award.student_id, award_id=award.id),
        info,
        {"kind": award.kind, "title": award.title, "reason": award.reason},
        taken=action is AuditAction.AWARD_DECIDE,
        label=f"khen thưởng {award.title}",
        reason=reason or award.reason,
    )


def shown(a: Award) -> dict[str, Any]:
    return {
        "id": a.id,
        "class_id": a.class_id,
        "student_id": a.student_id,
        "kind": a.kind,
        "title": a.title,
        "reason": a.reason,
        "decided_by": a.decided_by,
        "decided_at": a.decided_at.isoformat(),
    }
