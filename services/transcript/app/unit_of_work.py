"""The transcript service's unit of work."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox
from services.runtime.uow import SqlUnitOfWork
from services.transcript.store.repository import PostgresDocuments, TranscriptRepository
from services.transcript.store.tables import inbox, outbox

SERVICE = "transcript"


class TranscriptUnitOfWork(SqlUnitOfWork):
    transcripts: TranscriptRepository
    documents: PostgresDocuments

    def __init__(self, session_factory: Callable[[], Session], *, correlation_id: str | None = None) -> None:
        super().__init__(
            session_factory, Outbox(SERVICE, outbox), Inbox(inbox), correlation_id=correlation_id
        )

    def _open(self, session: Session) -> None:
        self.transcripts = TranscriptRepository(session)
        self.documents = PostgresDocuments(session)
