"""Database roles on the real PostgreSQL: a service's role gets its tables' rows only; no prepared statement if pooled."""

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.runtime.db import drop_database, make_engine, recreate_database
from services.runtime.migrations import upgrade
from services.runtime.settings import get_settings
from tests.conftest import RUN

pytestmark = pytest.mark.integration

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def database(unique: str) -> Iterator[str]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_roles_{unique}"
    recreate_database(url)
    yield url
    drop_database(url)


@pytest.fixture
def service_role(unique: str, database: str) -> Iterator[str]:
    """A LOGIN role of this test's own (roles are cluster-wide): dropped after the database it was granted in."""
    role = f"hocba_test_{unique}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'create role "{role}" login')
    yield role
    drop_database(database)
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'drop role if exists "{role}"')


def as_role(url: str, role: str) -> str:
    return str(make_url(url).set(username=role).render_as_string(hide_password=False))


def migrate_with_roles(monkeypatch: pytest.MonkeyPatch, url: str, roles: str) -> None:
    monkeypatch.setenv("HOCBA_DB_SERVICE_ROLES", roles)
    get_settings.cache_clear()
    try:
        upgrade("gradebook", url)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_service_role_reads_and_writes_its_tables_and_changes_no_schema(
    monkeypatch, database, service_role
):
    migrate_with_roles(monkeypatch, database, f'{{"gradebook": "{service_role}"}}')
    engine = make_engine(as_role(database, service_role), pool_size=1)
    try:
        with engine.begin() as conn:
            assert conn.execute(text("select count(*) from outbox")).scalar_one() == 0
            conn.execute(text("update outbox set published_at = now() where false"))
            conn.execute(text("delete from inbox where false"))
            assert conn.execute(text("select count(*) from alembic_version")).scalar_one() == 1
        for forbidden in (
            "create table mine (i int)",
            "drop table outbox",
            "delete from alembic_version",
            "alter table outbox add column x int",
        ):
            with pytest.raises(Exception, match="permission denied|must be owner"), engine.begin() as conn:
                conn.execute(text(forbidden))
    finally:
        engine.dispose()


def test_without_the_grant_the_service_role_reads_nothing(monkeypatch, database, service_role):
    migrate_with_roles(monkeypatch, database, "{}")
    engine = make_engine(as_role(database, service_role), pool_size=1)
    try:
        with pytest.raises(Exception, match="permission denied"), engine.begin() as conn:
            conn.execute(text("select count(*) from outbox"))
    finally:
        engine.dispose()


def test_a_role_name_that_is_not_a_plain_identifier_or_names_audit_is_refused(monkeypatch):
    for roles in ('{"gradebook": "x\\"; drop table outbox; --"}', '{"audit": "writer"}', '{"grades": "g"}'):
        monkeypatch.setenv("HOCBA_DB_SERVICE_ROLES", roles)
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="db_service_roles"):
            get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(("pooled", "threshold"), [(True, None), (False, 5)])
def test_behind_a_transaction_pooler_psycopg_prepares_no_statement(database, pooled, threshold):
    engine = make_engine(database, pool_size=1, transaction_pooling=pooled)
    try:
        with engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold == threshold
    finally:
        engine.dispose()
