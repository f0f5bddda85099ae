"""Chuyển trường, two-sided: the receiving school asks, the sending principal approves or refuses, both audit it.

Only an approval hands the học bạ over (the province grants the receiving school access to the sealed records,
and ``TranscriptTransferredV1`` tells transcript to continue the chain): there is no other way a học bạ changes
school. Every step writes an audit entry for each of the two schools, through the outbox with the step itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from contracts.audit import AuditAction
from contracts.sync import TranscriptTransferredV1
from services.sync.adapters.gateway import Answer
from services.sync.app.handlers import TokenOf, UowFactory
from services.sync.app.unit_of_work import SyncUnitOfWork
from services.sync.domain.errors import NoGatewayCredentials, SyncRefused, gateway_refusal
from services.sync.domain.model import TransferRequest
from services.sync.domain.transfers import (
    NOT_FOUND_VI,
    REQUEST_NOT_FOUND_VI,
    SAME_SCHOOL_VI,
    already_decided,
    normalise_lookup_code,
)


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: str  # the role the person acted in: principal or staff


class TransferringGateway(Protocol):
    def transfer(self, token: str, transcript_id: str, to_school: str) -> Answer: ...


def request_transfer(
    new_uow: UowFactory, actor: Actor, to_school: str, from_school: str, lookup_code: str
) -> dict[str, Any]:
    """The receiving school asks the sending school for the học bạ the family brought (by its lookup code)."""
    if from_school == to_school:
        raise SyncRefused(SAME_SCHOOL_VI, 422)
    code = normalise_lookup_code(lookup_code)
    with new_uow() as uow:
        held = uow.submissions.held_at_province(from_school, code) if code else None
        if held is None:
            raise SyncRefused(NOT_FOUND_VI, 404)
        request, created = uow.submissions.add_transfer_request(
            request_id=f"ct-{uuid.uuid4().hex[:16]}",
            from_school=from_school,
            to_school=to_school,
            transcript_id=held.transcript_id,
            requested_by=actor.user_id,
        )
        if created:  # asking again returns the request that waits, and is no new step
            _audit_both(uow, request, actor, AuditAction.TRANSFER_REQUEST)
        uow.commit()
    return _as_sent(request)


def decide_transfer(
    new_uow: UowFactory,
    gateway: TransferringGateway,
    token_of: TokenOf,
    actor: Actor,
    from_school: str,
    request_id: str,
    *,
    approve: bool,
    reason: str | None = None,
) -> dict[str, Any]:
    """The sending school's principal decides; an approval hands the học bạ over at the province, then here."""
    with new_uow() as uow:
        request = uow.submissions.transfer_request(request_id, from_school, lock=True)
        if request is None:
            raise SyncRefused(REQUEST_NOT_FOUND_VI, 404)
        refused = already_decided(request.status)
        if refused:
            raise SyncRefused(refused, 409)
        decided_at = datetime.now(UTC)
        if approve:
            handed_over = _hand_over(
                uow, gateway, token_of, from_school, request.transcript_id, request.to_school
            )
            request = replace(
                request,
                status="approved",
                decided_by=actor.user_id,
                decided_at=decided_at,
                gateway_transfer_id=handed_over,
            )
        else:
            request = replace(
                request, status="refused", decided_by=actor.user_id, decided_at=decided_at, reason=reason
            )
        uow.submissions.record_decision(request)
        _audit_both(
            uow,
            request,
            actor,
            AuditAction.TRANSFER_APPROVE if approve else AuditAction.TRANSFER_REFUSE,
            reason=reason,
        )
        uow.commit()
    return _as_sent(request) | {"transcript_id": request.transcript_id}


def transfer_requests(new_uow: UowFactory, school_id: str) -> dict[str, list[dict[str, Any]]]:
    """What waits for this school's decision (with the student as the school knows them) and what it asked for."""
    with new_uow() as uow:
        rows = uow.submissions.transfer_requests_of(school_id)
        to_decide = []
        for row in rows:
            if row.from_school != school_id:
                continue
            latest = uow.submissions.latest_of_transcript(school_id, row.transcript_id)
            to_decide.append(
                {
                    **_as_sent(row),
                    "transcript_id": row.transcript_id,
                    "student_id": latest.student_id if latest else None,
                    "class_id": latest.class_id if latest else None,
                    "school_year": latest.school_year if latest else None,
                    "grade": latest.grade if latest else None,
                }
            )
    sent = [_as_sent(r) for r in rows if r.to_school == school_id]
    return {"to_decide": to_decide, "sent": sent}


def _as_sent(request: TransferRequest) -> dict[str, Any]:
    """A request as both schools may see it; the học bạ's id reaches the receiving school only once approved."""
    out = {
        "id": request.id,
        "from_school": request.from_school,
        "to_school": request.to_school,
        "status": request.status,
        "requested_at": _iso(request.requested_at),
        "decided_at": _iso(request.decided_at),
        "reason": request.reason,
    }
    if request.status == "approved":
        out["transcript_id"] = request.transcript_id
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _hand_over(
    uow: SyncUnitOfWork,
    gateway: TransferringGateway,
    token_of: TokenOf,
    school_id: str,
    transcript_id: str,
    to_school: str,
) -> str | None:
    """Chuyển quản lý học bạ at the province: the receiving school may then read the student's sealed records."""
    rows = [r for r in uow.submissions.of_school(school_id) if r.transcript_id == transcript_id]
    if not any(r.status in ("accepted", "replaced") for r in rows):
        raise SyncRefused("Học bạ này chưa có bản ghi nào được Sở tiếp nhận nên chưa thể chuyển.", 404)
    token = token_of(uow, school_id)
    if token is None:
        raise NoGatewayCredentials()
    answer = gateway.transfer(token, transcript_id, to_school)
    if answer.status not in (200, 201):
        raise gateway_refusal(
            "Cổng tiếp nhận của Sở chưa chuyển được học bạ"
            + (f": {answer.body.get('detail')}" if answer.body.get("detail") else "; hãy thử lại sau."),
            answer.status,
        )
    now = datetime.now(UTC)
    uow.audit(
        AuditAction.TRANSCRIPT_TRANSFER,
        entity=transcript_id,
        actor="sync",
        role="system",
        school_id=school_id,
        changes={"to_school": to_school},
        occurred_at=now,
        subject=transcript_id,
    )
    # The student as the sending school knows them: its gradebook hands over a term studied there this year.
    latest = uow.submissions.latest_of_transcript(school_id, transcript_id)
    uow.emit(
        TranscriptTransferredV1(
            transcript_id=transcript_id,
            from_school=school_id,
            to_school=to_school,
            transferred_at=now,
            student_id=latest.student_id if latest else None,
        ),
        subject=transcript_id,
    )
    gateway_id = answer.body.get("id")
    return str(gateway_id) if gateway_id is not None else None


def _audit_both(
    uow: SyncUnitOfWork,
    request: TransferRequest,
    actor: Actor,
    action: AuditAction,
    *,
    reason: str | None = None,
) -> None:
    """The same step in each school's log; the học bạ's id only in the sending school's until it is handed over."""
    now = datetime.now(UTC)
    for school_id in (request.from_school, request.to_school):
        changes = {"from_school": request.from_school, "to_school": request.to_school}
        if school_id == request.from_school or action is AuditAction.TRANSFER_APPROVE:
            changes["transcript_id"] = request.transcript_id
        uow.audit(
            action,
            entity=request.id,
            actor=actor.user_id,
            role=actor.role,
            school_id=school_id,
            changes=changes,
            reason=reason,
            occurred_at=now,
            subject=request.id,
        )
