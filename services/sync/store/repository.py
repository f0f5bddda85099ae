"""Sync storage: submissions (the state machine's rows), the schools' gateway credentials, transfer requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.sync.store.tables import credentials, submissions, transfer_requests


class SyncRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, values: dict[str, Any]) -> bool:
        inserted = self.session.execute(
            pg_insert(submissions)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(submissions.c.year_record_id)
        ).first()
        return inserted is not None

    def get(self, year_record_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        query = select(submissions).where(submissions.c.year_record_id == year_record_id)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        return dict(row) if row else None

    def update(self, year_record_id: str, **values: Any) -> None:
        self.session.execute(
            update(submissions).where(submissions.c.year_record_id == year_record_id).values(**values)
        )

    def next_due(self) -> dict[str, Any] | None:
        """A pending submission whose time has come, locked; replicas skip each other's."""
        row = (
            self.session.execute(
                select(submissions)
                .where(submissions.c.status == "pending", submissions.c.next_attempt_at <= func.now())
                .order_by(submissions.c.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def of_school(self, school_id: str, school_year: str | None = None) -> list[dict[str, Any]]:
        query = select(submissions).where(submissions.c.school_id == school_id)
        if school_year:
            query = query.where(submissions.c.school_year == school_year)
        return [dict(r) for r in self.session.execute(query.order_by(submissions.c.class_id)).mappings()]

    def schools_with_submissions(self) -> list[str]:
        return list(self.session.execute(select(submissions.c.school_id).distinct()).scalars())

    def accepted_not_effective(self) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(submissions)
            .where(and_(submissions.c.status == "accepted", submissions.c.effective_at.is_(None)))
            .with_for_update(skip_locked=True)
        ).mappings()
        return [dict(r) for r in rows]

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
    def held_at_province(self, school_id: str, lookup_code: str) -> dict[str, Any] | None:
        """The school's latest record of the học bạ with this lookup code that the province holds; None otherwise.

        Scoped by the school: a code of another school's student reads exactly as a code nobody has.
        """
        row = (
            self.session.execute(
                select(submissions)
                .where(
                    submissions.c.school_id == school_id,
                    submissions.c.lookup_code == lookup_code,
                    submissions.c.status.in_(("accepted", "replaced")),
                )
                .order_by(submissions.c.school_year.desc(), submissions.c.version.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def latest_of_transcript(self, school_id: str, transcript_id: str) -> dict[str, Any] | None:
        row = (
            self.session.execute(
                select(submissions)
                .where(submissions.c.school_id == school_id, submissions.c.transcript_id == transcript_id)
                .order_by(submissions.c.school_year.desc(), submissions.c.version.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def add_transfer_request(self, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """A new pending request (True), or the one already waiting for the same học bạ and receiving school."""
        created = self.session.execute(
            pg_insert(transfer_requests)
            .values(**values, status="pending")
            .on_conflict_do_nothing(
                index_elements=["transcript_id", "to_school"], index_where=text("status = 'pending'")
            )
            .returning(transfer_requests.c.id)
        ).first()
        row = (
            self.session.execute(
                select(transfer_requests).where(
                    transfer_requests.c.transcript_id == values["transcript_id"],
                    transfer_requests.c.to_school == values["to_school"],
                    transfer_requests.c.status == "pending",
                )
            )
            .mappings()
            .one()
        )
        return dict(row), created is not None

    def transfer_request(
        self, request_id: str, from_school: str, *, lock: bool = False
    ) -> dict[str, Any] | None:
        """The request if it asks ``from_school`` for a học bạ; any other reads as unknown."""
        query = select(transfer_requests).where(
            transfer_requests.c.id == request_id, transfer_requests.c.from_school == from_school
        )
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        return dict(row) if row else None

    def decide_transfer_request(self, request_id: str, **values: Any) -> None:
        self.session.execute(
            update(transfer_requests).where(transfer_requests.c.id == request_id).values(**values)
        )

    def transfer_requests_of(self, school_id: str) -> list[dict[str, Any]]:
        """Requests this school sent or must decide, newest first."""
        rows = self.session.execute(
            select(transfer_requests)
            .where(
                (transfer_requests.c.from_school == school_id) | (transfer_requests.c.to_school == school_id)
            )
            .order_by(transfer_requests.c.requested_at.desc())
        ).mappings()
        return [dict(r) for r in rows]
