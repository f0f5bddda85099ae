"""Appending to and reading the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from services.audit.domain.entry import AuditEntry
from services.audit.store.tables import audit_entries


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> None:
        self.session.execute(insert(audit_entries).values(**entry.__dict__))

    def count_for_school(self, school_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count()).select_from(audit_entries).where(audit_entries.c.school_id == school_id)
            ).scalar_one()
        )

    def for_school(self, school_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(audit_entries)
            .where(audit_entries.c.school_id == school_id)
            .order_by(audit_entries.c.seq.desc())
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]
