"""The nameko dependency that hands each worker its service's sessions (the engine built once per container)."""

from __future__ import annotations

from collections.abc import Callable

from nameko.extensions import DependencyProvider
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.runtime import green
from services.runtime.db import make_engine
from services.runtime.settings import Settings, get_settings


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
