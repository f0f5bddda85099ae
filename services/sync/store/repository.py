"""Sync storage: submissions (the state machine's rows) and the schools' gateway credentials."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.sync.store.tables import credentials, submissions


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
