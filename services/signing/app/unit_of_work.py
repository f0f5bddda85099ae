"""The signing service's unit of work."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork
from services.signing.store.repository import SigningDocuments, SigningRepository
from services.signing.store.tables import inbox, outbox

SERVICE = "signing"


class SigningUnitOfWork(SqlUnitOfWork):
    signing: SigningRepository
    documents: SigningDocuments

    def __init__(self, session_factory: Callable[[], Session], *, correlation_id: str | None = None) -> None:
        super().__init__(
            session_factory, Outbox(SERVICE, outbox), Inbox(inbox), correlation_id=correlation_id
        )

    def _open(self, session: Session) -> None:
        self.signing = SigningRepository(session)
        self.documents = SigningDocuments(session)
