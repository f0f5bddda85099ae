"""Consuming one event exactly once: the plumbing every event handler shares, written here and nowhere else.

In order: the event's ids bound to every log line, the service's unit of work opened with the envelope's
correlation id (so what the handler emits carries it on), the inbox claimed for the consumer in that transaction,
the handler run, the transaction committed. A redelivery finds the claim and skips the handler. A handler that
raises rolls its claim back with its writes, and the exception reaches the entry point, which dead-letters the
message (`services.runtime.handlers`): replayed from the DLQ, it is handled again.

Kept apart from nameko so that tests (and benchmarks) can feed envelopes to a service's handlers directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, TypeVar

from contracts.envelope import Envelope, EventModel
from services.runtime.logging import correlation, get_logger

log = get_logger(__name__)


class ClaimingUnitOfWork(Protocol):
    """What consuming needs of a unit of work (`services.runtime.uow.SqlUnitOfWork` and its subclasses)."""

    def __enter__(self) -> Any: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def first_delivery(self, consumer: str, event_id: uuid.UUID | str) -> bool: ...

    def commit(self) -> None: ...


E = TypeVar("E", bound=EventModel)
U = TypeVar("U", bound=ClaimingUnitOfWork)
U_co = TypeVar("U_co", bound=ClaimingUnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[U_co]):
    """A service's unit of work for one event, carrying its correlation id (a service's ``unit_of_work``)."""

    def __call__(self, *, correlation_id: str | None = None) -> U_co: ...


def handle_once(
    envelope: Envelope[E],
    consumer: str,
    unit_of_work: UnitOfWorkFactory[U],
    handler: Callable[[Envelope[E], U], object],
) -> bool:
    """Run ``handler`` on ``envelope`` unless ``consumer`` already handled it; True when it ran (and committed).

    ``consumer`` names the claim in the inbox table: a stored name, so it never changes once events were consumed
    under it. The handler gets the open unit of work and neither claims nor commits.
    """
    with correlation(event_id=str(envelope.id), correlation_id=envelope.correlationid):
        uow = unit_of_work(correlation_id=envelope.correlationid)
        with uow:  # rolls back (the claim too) unless committed
            if not uow.first_delivery(consumer, envelope.id):
                log.info("event.already_handled", consumer=consumer)
                return False
            handler(envelope, uow)
            uow.commit()
    return True
