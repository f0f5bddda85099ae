"""What the service tier shares: a service's units of work over its own database, for feeding its app handlers
envelopes directly (`services.runtime.consume.handle_once`) with fakes at its ports; no broker, no relay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

U = TypeVar("U")


def units_of_work(uow_class: Callable[..., U], engine: Engine, opened: list[U]) -> Callable[..., U]:
    """A service's ``unit_of_work`` over ``engine`` that keeps each one it opens in ``opened`` (what they published)."""
    sessions = sessionmaker(engine)

    def unit_of_work(*, correlation_id: str | None = None) -> U:
        uow = uow_class(sessions, correlation_id=correlation_id)
        opened.append(uow)
        return uow

    return unit_of_work


def published(opened: list[Any]) -> list[Any]:
    """The envelopes the opened units of work wrote to their outbox (committed)."""
    return [envelope for uow in opened for envelope in uow.published]
