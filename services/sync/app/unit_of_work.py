"""The sync service's unit of work."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork
from services.sync.store.repository import SyncRepository
from services.sync.store.tables import inbox, outbox

SERVICE = "sync"


class SyncUnitOfWork(SqlUnitOfWork):
    submissions: SyncRepository

    def __init__(self, session_factory: Callable[[], Session], *, correlation_id: str | None = None) -> None:
        super().__init__(
            session_factory, Outbox(SERVICE, outbox), Inbox(inbox), correlation_id=correlation_id
        )

    def _open(self, session: Session) -> None:
        self.submissions = SyncRepository(session)
