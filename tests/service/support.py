"""What the service tier shares: a service's units of work over its own database, for feeding its app handlers
envelopes directly (`services.runtime.consume.handle_once`) with fakes at its ports; no broker, no relay.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

U = TypeVar("U")


def database(service: str) -> Any:
    """A module fixture: an engine on a fresh copy of ``service``'s migrated database (the run's template), dropped
    at the module's end. Only the one service's database: `service_databases` copies all five, and under load the
    copies and drops of the other four were most of this tier's time."""

    @pytest.fixture(scope="module")
    def engine(database_templates: dict[str, str], module_id: str) -> Iterator[Engine]:
        from services.runtime.db import drop_database, make_engine
        from tests.helpers import copy_database

        # Named like `service_databases`' ones: the run's end (or `make setup` after a killed run) drops leftovers.
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{os.environ['HOCBA_TEST_RUN']}_{module_id}_{service}"
        copy_database(database_templates[service], url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        drop_database(url)

    return engine


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
