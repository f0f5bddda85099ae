"""Signing storage: records and steps, deferred signatures between their two halves, signers' certificates."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.runtime.documents import PostgresDocuments
from services.signing.domain.model import (
    PendingSignature,
    Plan,
    RecordProgress,
    Signer,
    SigningRecord,
    Step,
    StuckSeal,
    WaitingStep,
)
from services.signing.store.tables import certificates, documents, pending, records, steps


class SigningDocuments(PostgresDocuments):
    def __init__(self, session: Session) -> None:
        super().__init__(session, documents)


def _step(row: Row[Any]) -> Step:
    return Step(
        row.step_order,
        row.role,
        row.field_name,
        row.signer_id,
        row.signer_name,
        tuple(row.covers),
        row.on_behalf_of,
    )


class SigningRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # records -------------------------------------------------------------------------------------------------
    def add_record(self, values: dict[str, Any], plan: Plan) -> bool:
        """False when the record is already there (a redelivered event met the primary key)."""
        inserted = self.session.execute(
            pg_insert(records).values(**values).on_conflict_do_nothing().returning(records.c.year_record_id)
        ).first()
        if inserted is None:
            return False
        self.session.execute(
            steps.insert(),
            [
                {
                    "year_record_id": values["year_record_id"],
                    "step_order": s.order,
                    "role": s.role,
                    "field_name": s.field_name,
                    "signer_id": s.signer_id,
                    "signer_name": s.signer_name,
                    "covers": list(s.covers),
                    "on_behalf_of": s.on_behalf_of,
                }
                for s in plan.steps
            ],
        )
        return True

    def lock_year_of(self, transcript_id: str, school_year: str) -> None:
        """Until this transaction ends, no other registers a version of the same year record: two versions
        delivered at once each see the other (or neither is committed when both look)."""
        self.session.execute(
            text("select pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"signing.year:{transcript_id}:{school_year}"},
        )

    def newer_version(self, transcript_id: str, school_year: str, version: int) -> str | None:
        """The newest version registered of the same year record, if it is newer than ``version``."""
        return self.session.execute(
            select(records.c.year_record_id)
            .where(
                records.c.transcript_id == transcript_id,
                records.c.school_year == school_year,
                records.c.version > version,
            )
            .order_by(records.c.version.desc())
            .limit(1)
        ).scalar()

    def record(self, year_record_id: str, *, lock: bool = False) -> SigningRecord | None:
        query = select(records).where(records.c.year_record_id == year_record_id)
        if lock:
            # Two signers (or a signer and an amendment) racing on one record take turns.
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return SigningRecord(**row._mapping) if row else None

    def plan(self, year_record_id: str) -> Plan:
        rows = self.session.execute(
            select(steps).where(steps.c.year_record_id == year_record_id).order_by(steps.c.step_order)
        ).all()
        return Plan(tuple(_step(r) for r in rows))

    def update_record(self, year_record_id: str, **values: Any) -> None:
        self.session.execute(
            update(records)
            .where(records.c.year_record_id == year_record_id)
            .values(updated_at=func.now(), **values)
        )

    def mark_signed(self, year_record_id: str, order: int, certificate_sha256: str, at: datetime) -> None:
        self.session.execute(
            update(steps)
            .where(and_(steps.c.year_record_id == year_record_id, steps.c.step_order == order))
            .values(signed_at=at, certificate_sha256=certificate_sha256)
        )

    def cancel(self, year_record_id: str) -> bool:
        """Stop collecting signatures on a superseded version; a sealed one stays sealed."""
        done = self.session.execute(
            update(records)
            .where(and_(records.c.year_record_id == year_record_id, records.c.status == "collecting"))
            .values(status="cancelled", updated_at=func.now())
            .returning(records.c.year_record_id)
        ).first()
        self.session.execute(delete(pending).where(pending.c.year_record_id == year_record_id))
        return done is not None

    def next_to_seal(self) -> SigningRecord | None:
        """A record waiting for its seal, locked for this transaction; replicas skip each other's."""
        row = self.session.execute(
            select(records)
            .where(records.c.status == "sealing", records.c.updated_at <= func.now())
            .order_by(records.c.updated_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        return SigningRecord(**row._mapping) if row else None

    def postpone_seal(self, year_record_id: str, error: str) -> int:
        """Try again later without blocking the records behind it, each failure waiting twice as long as the one
        before (30 s, 1 min, 2 min … at most an hour); returns the attempts so far."""
        attempts = records.c.seal_attempts + 1
        delay = func.least(30 * func.power(2, records.c.seal_attempts), 3600)
        return int(
            self.session.execute(
                update(records)
                .where(records.c.year_record_id == year_record_id)
                .values(
                    seal_attempts=attempts,
                    seal_error=error[:500],
                    updated_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay),
                )
                .returning(records.c.seal_attempts)
            ).scalar_one()
        )

    def stuck_seal_count(self, *, after: int = 3) -> int:
        """How many records waiting for their seal failed ``after`` times or more, over every school (the gauge)."""
        return int(
            self.session.execute(
                select(func.count())
                .select_from(records)
                .where(records.c.status == "sealing", records.c.seal_attempts >= after)
            ).scalar_one()
        )

    def stuck_seals(self, school_id: str, *, after: int = 3) -> list[StuckSeal]:
        """The school's records waiting for their seal that failed ``after`` times or more."""
        query = (
            select(
                records.c.year_record_id,
                records.c.class_id,
                records.c.seal_attempts,
                records.c.seal_error,
                records.c.updated_at.label("next_try"),
            )
            .where(records.c.status == "sealing", records.c.seal_attempts >= after)
            .where(records.c.school_id == school_id)
            .order_by(records.c.updated_at)
        )
        return [StuckSeal(**row._mapping) for row in self.session.execute(query)]

    # whose turn -----------------------------------------------------------------------------------------------
    def waiting_for(
        self, signer_id: str, school_id: str | None, class_id: str | None = None
    ) -> list[WaitingStep]:
        """Steps of this signer whose turn it is, on the school's records still collecting signatures.

        Person ids are the school's own: the same id at another school is another person.
        """
        query = (
            select(
                records.c.year_record_id,
                records.c.school_id,
                records.c.class_id,
                records.c.student_id,
                records.c.school_year,
                records.c.version,
                steps.c.step_order,
                steps.c.role,
                steps.c.field_name,
                steps.c.signer_name,
                steps.c.on_behalf_of,
            )
            .join(
                steps,
                and_(
                    steps.c.year_record_id == records.c.year_record_id,
                    steps.c.step_order == records.c.next_order,
                ),
            )
            .where(
                records.c.status == "collecting",
                steps.c.signer_id == signer_id,
                records.c.school_id == school_id,
            )
            .order_by(records.c.class_id, records.c.student_id)
        )
        if class_id:
            query = query.where(records.c.class_id == class_id)
        return [WaitingStep(**r._mapping) for r in self.session.execute(query)]

    def school_progress(self, school_id: str) -> list[RecordProgress]:
        """Per record: its class, status, and the step waiting (signer, role) — the readiness report's input."""
        query = (
            select(
                records.c.year_record_id,
                records.c.class_id,
                records.c.status,
                records.c.next_order,
                records.c.sealed_at,
                steps.c.signer_id,
                steps.c.signer_name,
                steps.c.role,
            )
            .outerjoin(
                steps,
                and_(
                    steps.c.year_record_id == records.c.year_record_id,
                    steps.c.step_order == records.c.next_order,
                ),
            )
            .where(records.c.school_id == school_id, records.c.status != "cancelled")
        )
        return [
            RecordProgress(
                r.year_record_id,
                r.class_id,
                r.status,
                r.next_order,
                r.sealed_at,
                None if r.signer_id is None else Signer(r.signer_id, r.signer_name, r.role),
            )
            for r in self.session.execute(query)
        ]

    def signed_since(self, school_id: str, since: datetime) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(steps.join(records, records.c.year_record_id == steps.c.year_record_id))
                .where(records.c.school_id == school_id, steps.c.signed_at >= since)
            ).scalar_one()
        )

    def unsigned_steps(self, school_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(steps.join(records, records.c.year_record_id == steps.c.year_record_id))
                .where(
                    records.c.school_id == school_id,
                    records.c.status.in_(("collecting", "sealing")),
                    steps.c.signed_at.is_(None),
                )
            ).scalar_one()
        )

    def school_years(self, school_id: str) -> list[str]:
        rows = self.session.execute(
            select(records.c.school_year).where(records.c.school_id == school_id).distinct()
        ).scalars()
        return sorted(rows)

    def signers_of(self, school_id: str) -> list[Signer]:
        """Who still has a step to sign on the school's records collecting signatures."""
        query = (
            select(steps.c.signer_id, steps.c.signer_name, steps.c.role)
            .join(records, records.c.year_record_id == steps.c.year_record_id)
            .where(
                records.c.school_id == school_id,
                records.c.status == "collecting",
                steps.c.signed_at.is_(None),
            )
            .distinct()
        )
        return [Signer(**r._mapping) for r in self.session.execute(query)]

    # deferred signatures --------------------------------------------------------------------------------------
    def put_pending(self, values: dict[str, Any]) -> None:
        # One half-done signature per step: preparing again replaces the earlier one.
        self.session.execute(
            delete(pending).where(
                pending.c.year_record_id == values["year_record_id"],
                pending.c.step_order == values["step_order"],
            )
        )
        self.session.execute(pending.insert().values(**values))

    def pending_of_batch(self, batch_id: uuid.UUID) -> list[PendingSignature]:
        rows = self.session.execute(select(pending).where(pending.c.batch_id == batch_id))
        return [PendingSignature(**r._mapping) for r in rows]

    def drop_pending(self, item_id: uuid.UUID) -> None:
        self.session.execute(delete(pending).where(pending.c.id == item_id))

    # certificates ---------------------------------------------------------------------------------------------
    def register_certificate(
        self,
        signer_id: str,
        school_id: str | None,
        der: bytes,
        chain: list[bytes],
        subject: str,
        not_after: datetime,
    ) -> None:
        values = {
            "school_id": school_id,
            "certificate": der,
            "chain": [base64.b64encode(c).decode() for c in chain],
            "subject": subject,
            "not_after": not_after,
            "registered_at": func.now(),
        }
        self.session.execute(
            pg_insert(certificates)
            .values(signer_id=signer_id, **values)
            .on_conflict_do_update(index_elements=[certificates.c.signer_id], set_=values)
        )

    def certificate_of(self, signer_id: str) -> tuple[bytes, list[bytes], datetime] | None:
        row = self.session.execute(select(certificates).where(certificates.c.signer_id == signer_id)).first()
        if row is None:
            return None
        return bytes(row.certificate), [base64.b64decode(c) for c in row.chain], row.not_after

    def certificates_of(self, signer_ids: list[str]) -> dict[str, datetime]:
        rows = self.session.execute(
            select(certificates.c.signer_id, certificates.c.not_after).where(
                certificates.c.signer_id.in_(signer_ids)
            )
        )
        return {r.signer_id: r.not_after for r in rows}
