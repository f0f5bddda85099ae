"""SQLAlchemy engine and sessions per service, and the nameko dependency that hands them to workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from services.runtime import green
from services.runtime.settings import Settings, get_settings

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


class Database(DependencyProvider):
    """Gives each worker a session factory bound to this service's database, logged in as the service's own role
    (``Settings.login_url``: the audit service as the writer, which may append to its log but not change it).

    ``check`` runs once against the engine at start-up and raises to refuse starting (a login with too much power).
    """

    def __init__(
        self, service: str, settings: Settings | None = None, check: Callable[[Engine], None] | None = None
    ) -> None:
        self.service = service
        self._settings = settings
        self._check = check
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None

    def setup(self) -> None:
        if not green.psycopg_is_green():
            raise RuntimeError(
                "psycopg would block the eventlet hub: call services.runtime.green.patch() before importing services"
            )
        settings = self._settings or get_settings()
        url = self.container.config.get("DB_URL") or settings.login_url(self.service)
        self.engine = make_engine(
            url,
            pool_size=settings.db_pool_size,
            application_name=self.service,
            transaction_pooling=settings.db_transaction_pooling,
        )
        if self._check is not None:
            try:
                self._check(self.engine)
            except Exception:
                self.engine.dispose()
                raise
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def get_dependency(self, worker_ctx: object) -> sessionmaker[Session]:
        assert self.session_factory is not None
        return self.session_factory
