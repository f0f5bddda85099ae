"""The audit service's unit of work."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.audit.store.repository import AuditLog
from services.audit.store.tables import inbox, outbox
from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork

SERVICE = "audit"


class AuditUnitOfWork(SqlUnitOfWork):
    log: AuditLog

    def __init__(self, session_factory: Callable[[], Session], *, correlation_id: str | None = None) -> None:
        super().__init__(
            session_factory, Outbox(SERVICE, outbox), Inbox(inbox), correlation_id=correlation_id
        )

    def _open(self, session: Session) -> None:
        self.log = AuditLog(session)
