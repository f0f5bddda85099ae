"""The signing service's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.runtime.uow import ServiceUnitOfWork
from services.signing.store.repository import SigningDocuments, SigningRepository
from services.signing.store.tables import inbox, outbox

SERVICE = "signing"


class SigningUnitOfWork(ServiceUnitOfWork):
    signing: SigningRepository
    documents: SigningDocuments

    service = SERVICE
    outbox_table, inbox_table = outbox, inbox

    def _open(self, session: Session) -> None:
        self.signing = SigningRepository(session)
        self.documents = SigningDocuments(session)
