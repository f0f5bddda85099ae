"""The audit service's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.audit.store.repository import AuditLog
from services.audit.store.tables import inbox, outbox
from services.runtime.uow import ServiceUnitOfWork

SERVICE = "audit"


class AuditUnitOfWork(ServiceUnitOfWork):
    log: AuditLog

    service = SERVICE
    outbox_table, inbox_table = outbox, inbox

    def _open(self, session: Session) -> None:
        self.log = AuditLog(session)
