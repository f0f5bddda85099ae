"""Sync storage: submissions (the state machine's rows), the schools' gateway credentials, transfer requests."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Row, and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.sync.domain.model import NewSubmission, Submission, TransferRequest
from services.sync.store.tables import credentials, submissions, transfer_requests


def _submission(row: Row[Any] | None) -> Submission | None:
    return Submission(**row._mapping) if row else None


def _transfer_request(row: Row[Any] | None) -> TransferRequest | None:
    return TransferRequest(**row._mapping) if row else None


class SyncRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, submission: NewSubmission) -> bool:
        """False when the version was registered already (a redelivered event)."""
        inserted = self.session.execute(
            pg_insert(submissions)
            .values(**asdict(submission))
            .on_conflict_do_nothing()
            .returning(submissions.c.year_record_id)
        ).first()
        return inserted is not None

    def lock_year_of(self, transcript_id: str, school_year: str) -> None:
        """Until this transaction ends, no other registers a version of the same year record."""
        self.session.execute(
            text("select pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"sync.year:{transcript_id}:{school_year}"},
        )

    def newer_version(self, transcript_id: str, school_year: str, version: int) -> str | None:
        """A version of the same year record newer than ``version`` registered already, if any."""
        return self.session.execute(
            select(submissions.c.year_record_id)
            .where(
                submissions.c.transcript_id == transcript_id,
                submissions.c.school_year == school_year,
                submissions.c.version > version,
            )
            .limit(1)
        ).scalar()

    def get(self, year_record_id: str, *, lock: bool = False) -> Submission | None:
        query = select(submissions).where(submissions.c.year_record_id == year_record_id)
        if lock:
            query = query.with_for_update()
        return _submission(self.session.execute(query).first())

    def update(self, year_record_id: str, **values: Any) -> None:
        self.session.execute(
            update(submissions).where(submissions.c.year_record_id == year_record_id).values(**values)
        )

    def next_due(self) -> Submission | None:
        """A pending submission whose time has come, locked; replicas skip each other's."""
        return _submission(
            self.session.execute(
                select(submissions)
                .where(submissions.c.status == "pending", submissions.c.next_attempt_at <= func.now())
                .order_by(submissions.c.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
        )

    def of_school(self, school_id: str, school_year: str | None = None) -> list[Submission]:
        query = select(submissions).where(submissions.c.school_id == school_id)
        if school_year:
            query = query.where(submissions.c.school_year == school_year)
        return [
            Submission(**r._mapping) for r in self.session.execute(query.order_by(submissions.c.class_id))
        ]

    def schools_with_submissions(self) -> list[str]:
        return list(self.session.execute(select(submissions.c.school_id).distinct()).scalars())

    def accepted_not_effective(self) -> list[Submission]:
        rows = self.session.execute(
            select(submissions)
            .where(and_(submissions.c.status == "accepted", submissions.c.effective_at.is_(None)))
            .with_for_update(skip_locked=True)
        )
        return [Submission(**r._mapping) for r in rows]

    def retry_now(self, school_id: str) -> int:
        """Everything of the school still waiting goes at the next round (its credentials were just fixed)."""
        done = self.session.execute(
            update(submissions)
            .where(submissions.c.school_id == school_id, submissions.c.status == "pending")
            .values(next_attempt_at=func.now())
        )
        return int(getattr(done, "rowcount", 0) or 0)

    # credentials -----------------------------------------------------------------------------------------------
    def set_credentials(self, school_id: str, token_enc: bytes) -> None:
        self.session.execute(
            pg_insert(credentials)
            .values(school_id=school_id, token_enc=token_enc)
            .on_conflict_do_update(
                index_elements=[credentials.c.school_id],
                set_={"token_enc": token_enc, "updated_at": func.now()},
            )
        )

    def credentials_of(self, school_id: str) -> bytes | None:
        row = self.session.execute(
            select(credentials.c.token_enc).where(credentials.c.school_id == school_id)
        ).first()
        return bytes(row.token_enc) if row else None

    # transfer requests -----------------------------------------------------------------------------------------
    def held_at_province(self, school_id: str, lookup_code: str) -> Submission | None:
        """The school's latest record of the học bạ with this lookup code that the province holds; None otherwise.

        Scoped by the school: a code of another school's student reads exactly as a code nobody has.
        """
        return _submission(
            self.session.execute(
                select(submissions)
                .where(
                    submissions.c.school_id == school_id,
                    submissions.c.lookup_code == lookup_code,
                    submissions.c.status.in_(("accepted", "replaced")),
                )
                .order_by(submissions.c.school_year.desc(), submissions.c.version.desc())
                .limit(1)
            ).first()
        )

    def latest_of_transcript(self, school_id: str, transcript_id: str) -> Submission | None:
        return _submission(
            self.session.execute(
                select(submissions)
                .where(submissions.c.school_id == school_id, submissions.c.transcript_id == transcript_id)
                .order_by(submissions.c.school_year.desc(), submissions.c.version.desc())
                .limit(1)
            ).first()
        )

    def add_transfer_request(
        self, *, request_id: str, from_school: str, to_school: str, transcript_id: str, requested_by: str
    ) -> tuple[TransferRequest, bool]:
        """A new pending request (True), or the one already waiting for the same học bạ and receiving school."""
        created = self.session.execute(
            pg_insert(transfer_requests)
            .values(
                id=request_id,
                from_school=from_school,
                to_school=to_school,
                transcript_id=transcript_id,
                requested_by=requested_by,
                status="pending",
            )
            .on_conflict_do_nothing(
                index_elements=["transcript_id", "to_school"], index_where=text("status = 'pending'")
            )
            .returning(transfer_requests.c.id)
        ).first()
        row = self.session.execute(
            select(transfer_requests).where(
                transfer_requests.c.transcript_id == transcript_id,
                transfer_requests.c.to_school == to_school,
                transfer_requests.c.status == "pending",
            )
        ).one()
        return TransferRequest(**row._mapping), created is not None

    def transfer_request(
        self, request_id: str, from_school: str, *, lock: bool = False
    ) -> TransferRequest | None:
        """The request if it asks ``from_school`` for a học bạ; any other reads as unknown."""
        query = select(transfer_requests).where(
            transfer_requests.c.id == request_id, transfer_requests.c.from_school == from_school
        )
        if lock:
            query = query.with_for_update()
        return _transfer_request(self.session.execute(query).first())

    def record_decision(self, decided: TransferRequest) -> None:
        """Store the sending principal's decision: status, who and when, the reason or the province's handover id."""
        self.session.execute(
            update(transfer_requests)
            .where(transfer_requests.c.id == decided.id)
            .values(
                status=decided.status,
                decided_by=decided.decided_by,
                decided_at=decided.decided_at,
                reason=decided.reason,
                gateway_transfer_id=decided.gateway_transfer_id,
            )
        )

    def transfer_requests_of(self, school_id: str) -> list[TransferRequest]:
        """Requests this school sent or must decide, newest first."""
        rows = self.session.execute(
            select(transfer_requests)
            .where(
                (transfer_requests.c.from_school == school_id) | (transfer_requests.c.to_school == school_id)
            )
            .order_by(transfer_requests.c.requested_at.desc())
        )
        return [TransferRequest(**r._mapping) for r in rows]
