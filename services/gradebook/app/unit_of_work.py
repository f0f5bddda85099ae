"""The gradebook's unit of work: repositories plus the runtime's outbox and inbox in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.gradebook.store.repository import GradebookRepository, TermLockRepository
from services.gradebook.store.tables import inbox, outbox
from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork

SERVICE = "gradebook"


class GradebookUnitOfWork(SqlUnitOfWork):
    term_locks: TermLockRepository
    gradebook: GradebookRepository

    def __init__(self, session_factory: Callable[[], Session], *, correlation_id: str | None = None) -> None:
        super().__init__(
            session_factory, Outbox(SERVICE, outbox), Inbox(inbox), correlation_id=correlation_id
        )

    def _open(self, session: Session) -> None:
        self.term_locks = TermLockRepository(session)
        self.gradebook = GradebookRepository(session)
