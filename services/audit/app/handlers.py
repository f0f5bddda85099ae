"""Audit use cases."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.audit.domain import history
from services.audit.domain.entry import AuditEntry
from services.runtime.data_key import DataVault, Hashed
from services.runtime.logging import get_logger
from services.runtime.personal_data import is_personal_key, scrub_text

log = get_logger(__name__)

CONSUMER = "audit.record"


def pseudonymise(value: Any, vault: DataVault) -> Any:
    """The log keeps a keyed hash of any personal value a service sent by mistake, never the value itself:
    the same person still links across entries (same hash), and the log stays free of the data (Law 91/2025)."""
    if isinstance(value, dict):
        return {
            k: (
                f"hmac:{vault.keyed_hash(str(v), Hashed.AUDIT_PSEUDONYM)}"
                if is_personal_key(k) and v is not None
                else pseudonymise(v, vault)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [pseudonymise(v, vault) for v in value]
    if isinstance(value, str) and scrub_text(value) != value:
        return scrub_text(value)  # a 12-digit number inside free text
    return value


def record(
    envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork, *, source: str, vault: DataVault
) -> None:
    """Append one audit event to the log (exactly once per event id: the runtime claims it as ``CONSUMER``).

    ``source`` is the service the event came from as the broker established it (the exchange it was delivered
    from), and the entry is recorded under it: a producer writes entries under its own name only. A body that
    claims another ``service`` is still recorded, under its real source, with the claim kept as
    ``claimed_service`` in the stored record, rather than refused to the DLQ: the audit log's job is to keep the
    trail, and a producer's buggy or forged claim is part of that trail (dead-lettered, it would stay out of the
    chain until someone replays it, and a replay would be refused again, forever). ``vault`` keys the pseudonyms.
    """
    event = envelope.data
    record_data: dict[str, Any] = pseudonymise(event.model_dump(mode="json"), vault)
    if event.service != source:
        log.warning("audit.service_claim_mismatch", source=source, claimed=event.service)
        record_data["service"] = source
        record_data["claimed_service"] = event.service
    uow.log.append(
        AuditEntry(
            event_id=envelope.id,
            service=source,
            school_id=event.school_id,
            actor_id=event.actor_id,
            actor_role=event.actor_role,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            record=record_data,
            reason=event.reason,
            occurred_at=event.occurred_at,
        )
    )


class LogQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    student: str | None = Field(None, description="Opaque student id")
    actor: str | None = Field(None, description="Opaque id of who acted")
    entity: str | None = Field(None, description="Entity id prefix, e.g. class/8a1")
    action: str | None = Field(None, description="Action prefix, e.g. marks. or term.lock")
    since: datetime | None = None
    until: datetime | None = None
    # The chain's sequence is a bigint: a larger number is the caller's 422, not PostgreSQL's out-of-range error.
    after: int = Field(0, ge=0, le=2**63 - 1, description="Return entries after this chain sequence number")
    limit: int = Field(100, ge=1, le=1000)


def query_log(school_id: str, query: LogQuery, uow: AuditUnitOfWork) -> dict[str, Any]:
    with uow:
        entries = uow.log.query(
            school_id,
            student_id=query.student,
            actor_id=query.actor,
            entity_id=query.entity,
            action=query.action,
            since=query.since,
            until=query.until,
            after_seq=query.after,
            limit=query.limit,
        )
        total = uow.log.count_for_school(school_id)
    return {
        "total": total,
        # The stored columns in table order, as the log listed them before its rows were typed.
        "entries": [asdict(entry) for entry in entries],
        "next_after": entries[-1].chain_seq if len(entries) == query.limit else None,
    }


def grade_history(
    school_id: str, class_id: str, subject: str, term: str, student_id: str, uow: AuditUnitOfWork
) -> dict[str, Any]:
    """The full history of one grade value: every value recorded, the lock, each amendment and who approved it."""
    value_id = history.value_id(class_id=class_id, student_id=student_id, subject=subject, term=term)
    with uow:
        entries = uow.log.value_history(school_id, value_id, class_id, term)
    steps = [history.step(e) for e in history.in_order(entries)]
    return {
        "school_id": school_id,
        "value_id": value_id,
        "steps": steps,
        "amendments": history.amendments(steps),
    }
