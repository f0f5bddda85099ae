"""The unit of work every service's app layer uses: one transaction for state, outbox and inbox."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Self, Unpack

from sqlalchemy import Table
from sqlalchemy.orm import Session

from contracts.audit import AuditAction, AuditFacts, AuditRecordedV1
from contracts.envelope import Envelope, EventModel
from services.runtime.inbox import Inbox
from services.runtime.outbox import Outbox


class EventsOfTheWork:
    """What every unit of work does with the events of its work: queue them until commit, and build the audit event
    of a change under the service that emits it."""

    _pending: list[tuple[EventModel, str | None]]

    def _emitted_by(self) -> str:
        raise NotImplementedError

    def emit(self, event: EventModel, *, subject: str | None = None) -> None:
        """Queue an event; it reaches the outbox only with ``commit``."""
        self._pending.append((event, subject))

    def audit(
        self, action: AuditAction, *, subject: str | None = None, **facts: Unpack[AuditFacts]
    ) -> AuditRecordedV1:
        """Queue the audit event of ``action`` on ``entity``, recorded under this unit of work's service.

        ``actor`` and ``role`` are the event's ``actor_id`` and ``actor_role``; the entity type follows from the
        action; ``occurred_at`` defaults to now. Like :meth:`emit`, the event reaches the outbox only with commit.
        """
        event = AuditRecordedV1.of(action, service=self._emitted_by(), **facts)
        self.emit(event, subject=subject)
        return event


class SqlUnitOfWork(EventsOfTheWork):
    """Rolls back unless committed; on commit, the events emitted inside go to the outbox in the same transaction.

    Services subclass it to attach their repositories in ``_open``.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        outbox: Outbox,
        inbox: Inbox,
        *,
        correlation_id: str | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.outbox = outbox
        self.inbox = inbox
        self.correlation_id = correlation_id
        self._pending: list[tuple[EventModel, str | None]] = []
        self.published: list[Envelope[Any]] = []

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.session.begin()
        self._pending = []
        self._open(self.session)
        return self

    def _open(self, session: Session) -> None:
        """Hook for subclasses: build repositories on ``session``."""

    def _emitted_by(self) -> str:
        return self.outbox.service

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.session.in_transaction():
                self.session.rollback()
        finally:
            self.session.close()

    def first_delivery(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        """Claim an incoming event for ``consumer``; False means it was already handled (skip the side effect)."""
        return self.inbox.claim(self.session, consumer, event_id)

    def commit(self) -> None:
        self.published += self.outbox.add_all(self.session, self._pending, correlation_id=self.correlation_id)
        self._pending = []
        self.session.commit()

    def rollback(self) -> None:
        self._pending = []
        self.session.rollback()


class ServiceUnitOfWork(SqlUnitOfWork):
    """A service's unit of work: it names its service and its outbox and inbox tables once, as class attributes,
    and is made from the session factory alone (``GradebookUnitOfWork(db, correlation_id=…)``)."""

    service: ClassVar[str]
    outbox_table: ClassVar[Table]
    inbox_table: ClassVar[Table]

    def __init__(self, session_factory: Callable[[], Session], *, correlation_id: str | None = None) -> None:
        super().__init__(
            session_factory,
            Outbox(self.service, self.outbox_table),
            Inbox(self.inbox_table),
            correlation_id=correlation_id,
        )


class InMemoryUnitOfWork(EventsOfTheWork):
    """:class:`SqlUnitOfWork`'s behaviour without a database, for tests of a handler whose repository use is small.

    The repositories are in-memory stand-ins passed by keyword (``transcripts=…``), reached as attributes like a
    service's. As with the database, nothing stays unless committed: the claims (``claims``, shared between units of
    work, stands for the inbox table), the emitted events, and the repositories' state (copied on entry, put back on
    exit without commit). ``published`` holds the envelopes committed, as the outbox would.
    """

    def __init__(
        self,
        service: str,
        *,
        claims: set[tuple[str, str]] | None = None,
        correlation_id: str | None = None,
        **repositories: Any,
    ) -> None:
        self.service = service
        self.claims = set() if claims is None else claims
        self.correlation_id = correlation_id
        self.repositories = repositories
        self.published: list[Envelope[Any]] = []
        self._pending: list[tuple[EventModel, str | None]] = []
        self._claimed: set[tuple[str, str]] = set()
        self._saved: dict[str, dict[str, Any]] | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["repositories"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __enter__(self) -> Self:
        self._pending, self._claimed = [], set()
        self._saved = {name: copy.deepcopy(vars(repo)) for name, repo in self.repositories.items()}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()  # what was written since the last commit

    def _emitted_by(self) -> str:
        return self.service

    def first_delivery(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        key = (consumer, str(event_id))
        if key in self.claims or key in self._claimed:
            return False
        self._claimed.add(key)
        return True

    def commit(self) -> None:
        self.published += [
            Envelope.wrap(
                event, source_service=self.service, subject=subject, correlation_id=self.correlation_id
            )
            for event, subject in self._pending
        ]
        self.claims |= self._claimed
        self._pending, self._claimed = [], set()
        self._saved = {name: copy.deepcopy(vars(repo)) for name, repo in self.repositories.items()}

    def rollback(self) -> None:
        for name, state in (self._saved or {}).items():
            vars(self.repositories[name]).clear()
            vars(self.repositories[name]).update(state)
        self._pending, self._claimed = [], set()
