"""Alembic, driven from code: one migration history per service, no alembic.ini to keep in sync."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text

from services.runtime.db import ensure_database, make_engine
from services.runtime.settings import get_settings

SERVICES_DIR = Path(__file__).resolve().parent.parent


def alembic_config(service: str, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(SERVICES_DIR / service / "migrations" / "versions"))
    settings = get_settings()
    config.attributes["url"] = url or settings.db_url(service)
    # What a migration needs from configuration is given to it here: migrations never read settings themselves.
    config.attributes["writer_role"] = settings.audit_db_role
    return config


def upgrade(service: str, url: str | None = None, revision: str = "head") -> None:
    """Create the service's database if missing and migrate it to ``revision``; then, where another role logs the
    service in (HOCBA_DB_SERVICE_ROLES), grant it the service's tables."""
    config = alembic_config(service, url)
    ensure_database(config.attributes["url"])
    command.upgrade(config, revision)
    role = get_settings().db_service_roles.get(service)
    if role is not None:
        grant_service_role(config.attributes["url"], role)


def grant_service_role(url: str, role: str) -> None:
    """``role`` may read and write every table and sequence of the database, today's and those later migrations
    create (default privileges of the migrating login), but not alembic_version, and may create or drop nothing:
    the migration role owns the schema."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            for statement in (
                f'grant usage on schema public to "{role}"',
                f'grant select, insert, update, delete on all tables in schema public to "{role}"',
                f'grant usage, select, update on all sequences in schema public to "{role}"',
                f'alter default privileges in schema public grant select, insert, update, delete on tables to "{role}"',
                f'alter default privileges in schema public grant usage, select, update on sequences to "{role}"',
                f'revoke insert, update, delete on alembic_version from "{role}"',
            ):
                conn.execute(text(statement))
    finally:
        engine.dispose()


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    url = str(context.config.attributes["url"])
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
