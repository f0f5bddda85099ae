"""The transcript service's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.runtime.uow import ServiceUnitOfWork
from services.transcript.store.repository import PostgresDocuments, TranscriptRepository
from services.transcript.store.tables import inbox, outbox

SERVICE = "transcript"


class TranscriptUnitOfWork(ServiceUnitOfWork):
    transcripts: TranscriptRepository
    documents: PostgresDocuments

    service = SERVICE
    outbox_table, inbox_table = outbox, inbox

    def _open(self, session: Session) -> None:
        self.transcripts = TranscriptRepository(session)
        self.documents = PostgresDocuments(session)
