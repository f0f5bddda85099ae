"""SQLAlchemy engines, databases and transactions: what a service, its relay and the tools share. The nameko dependency
that hands a service's sessions to its workers is services/runtime/database.py (a relay imports no nameko or eventlet)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# Alembic and create_all both see constraint names that are stable across services.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(
    url: str, *, pool_size: int = 10, application_name: str = "hocba", transaction_pooling: bool = False
) -> Engine:
    """An engine for ``url``, logged in as the URL's own user (no SET ROLE: privileges come from the login).

    ``transaction_pooling``: the URL reaches PostgreSQL through a pooler in transaction mode (CloudNativePG's
    PgBouncer), which may run each transaction on another server connection: psycopg must prepare no statement
    (``prepare_threshold=None``), or a later one finds its prepared statement missing.
    """
    connect_args: dict[str, object] = {"application_name": application_name}
    if transaction_pooling:
        connect_args["prepare_threshold"] = None
    url_obj = make_url(url)
    if url_obj.drivername in ("postgresql", "postgres"):
        # Operators paste CloudNativePG's `postgresql://` URIs; SQLAlchemy would pick psycopg2.
        url_obj = url_obj.set(drivername="postgresql+psycopg")
    return create_engine(
        url_obj,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # Statement parameters are names, birth dates, scores: keep them out of exception text (and so of logs).
        hide_parameters=True,
        connect_args=connect_args,
    )


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if it does not exist; True when it was created."""
    url_obj = make_url(url).set(drivername="postgresql+psycopg")
    name = url_obj.database
    admin = create_engine(url_obj.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("select 1 from pg_database where datname = :n"), {"n": name}).scalar()
            if exists:
                return False
            conn.execute(text(f'create database "{name}"'))
            return True
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` if it exists, closing its connections (test runs, benchmarks)."""
    url_obj = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(url_obj.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{url_obj.database}" with (force)'))
    finally:
        admin.dispose()


def recreate_database(url: str) -> None:
    """An empty database under ``url``, whatever was there before."""
    drop_database(url)
    ensure_database(url)


@contextmanager
def transaction(session_factory: Callable[[], Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception."""
    session = session_factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
