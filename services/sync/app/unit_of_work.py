"""The sync service's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.runtime.uow import ServiceUnitOfWork
from services.sync.store.repository import SyncRepository
from services.sync.store.tables import inbox, outbox

SERVICE = "sync"


class SyncUnitOfWork(ServiceUnitOfWork):
    submissions: SyncRepository

    service = SERVICE
    outbox_table, inbox_table = outbox, inbox

    def _open(self, session: Session) -> None:
        self.submissions = SyncRepository(session)
