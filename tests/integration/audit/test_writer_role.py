"""The audit service logs in as a role that may append to the log but never change it: grants, not only a trigger."""

import uuid
from datetime import UTC, datetime
from functools import partial

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

import sandbox.pki as pki
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app import handlers
from services.audit.app.checkpoints import take_checkpoints
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.audit.service import AuditService
from services.audit.store.login import LoginMayChangeTheLog, refuse_a_login_that_may_change_the_log
from services.audit.store.tables import audit_entries
from services.runtime.consume import handle_once
from services.runtime.data_key import DataVault
from services.runtime.database import Database
from services.runtime.db import drop_database, make_engine, recreate_database
from services.runtime.migrations import upgrade
from services.runtime.settings import get_settings
from services.runtime.timestamps import KeptKeyTimeStamper
from tests.helpers import publish_event, running, wait_for

pytestmark = pytest.mark.integration


def _event(school: str, n: int = 0) -> AuditRecordedV1:
    return AuditRecordedV1(
        service="gradebook",
        school_id=school,
        actor_id="gv",
        actor_role="teacher",
        action="marks.record",
        entity_type="marks",
        entity_id=f"class/c1/student/s{n}/toan/hk1",
        changes={"final": "6 → 7"},
        occurred_at=datetime.now(UTC),
    )


@pytest.fixture(scope="module")
def audit_service(amqp_uri, service_databases):
    with running(AuditService, amqp_uri) as container:
        (database,) = [d for d in container.dependencies if isinstance(d, Database)]
        yield container, database.engine


def test_the_service_logs_in_as_the_writer_itself_with_no_role_to_switch_to(audit_service):
    _, engine = audit_service
    writer = get_settings().audit_db_role
    with engine.connect() as conn:
        # Logged in as the writer (session_user), not switched to it from a login that could switch back.
        assert conn.execute(text("select session_user, current_user")).one() == (writer, writer)
        conn.execute(text("reset role"))
        assert conn.execute(text("select current_user")).scalar() == writer
    with pytest.raises(DBAPIError) as refused, engine.connect() as conn:
        conn.execute(text("set role postgres"))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)


def test_the_service_appends_through_the_broker_but_may_not_drop_truncate_delete_or_update(
    audit_service, amqp_uri
):
    _, engine = audit_service
    school = f"grants-{uuid.uuid4().hex[:8]}"
    publish_event(amqp_uri, _event(school), "gradebook")
    # ...and the normal append path, called directly on the service's engine.
    assert handle_once(
        Envelope.wrap(_event(school, 1), source_service="gradebook"),
        handlers.CONSUMER,
        partial(AuditUnitOfWork, sessionmaker(engine)),
        partial(handlers.record, source="gradebook", vault=DataVault.from_settings()),
    )

    def recorded() -> int:
        with engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(audit_entries).where(audit_entries.c.chain == school)
            ).scalar_one()

    wait_for(lambda: recorded() == 2, what="both entries")
    tsa = KeptKeyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())
    assert take_checkpoints(sessionmaker(engine), tsa, school) == 1
    for statement in (
        "drop table audit_entries",
        "drop table audit_checkpoints",
        "drop table audit_chain_heads",
        "truncate audit_entries",
        "truncate audit_checkpoints",
        "truncate audit_chain_heads",
        f"delete from audit_entries where chain = '{school}'",
        f"delete from audit_checkpoints where chain = '{school}'",
        f"delete from audit_chain_heads where chain = '{school}'",
        f"update audit_entries set actor_id = 'x' where chain = '{school}'",
        f"update audit_checkpoints set chain_seq = 1 where chain = '{school}'",
        "alter table audit_entries disable trigger audit_entries_append_only",
        "drop trigger audit_entries_append_only on audit_entries",
        "alter table audit_entries rename to audit_entries_old",
        # Bookkeeping the runtime never deletes from (`hocba db prune` runs as the owner).
        "delete from outbox",
        "delete from inbox",
        "update inbox set consumer = consumer",
        # Nowhere to build a look-alike log either.
        "create table audit_entries_forged (seq bigint)",
    ):
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text(statement))
        assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), statement
        # Refused by the grants, before the append-only trigger would have been reached.
        assert "append-only" not in str(refused.value.orig), statement
    assert recorded() == 2


def test_the_service_refuses_to_start_with_the_owners_login(amqp_uri, service_databases):
    owner = service_databases[
        "audit"
    ]  # the migrations' login: postgres here, the tables' owner in Kubernetes
    with pytest.raises(LoginMayChangeTheLog, match="owns the log"):
        refuse_a_login_that_may_change_the_log(make_engine(owner, pool_size=1))
    with pytest.raises(LoginMayChangeTheLog), running(AuditService, amqp_uri, DB_URL=owner):
        pass


def test_migrating_as_the_writer_is_refused(service_databases):
    url = service_databases["audit"].rsplit("_", 1)[0] + f"_audit2_{uuid.uuid4().hex[:6]}"
    recreate_database(url)
    try:
        upgrade("audit", url, revision="0004")  # as the owner
        as_writer = get_settings().login_url("audit").rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]
        with pytest.raises(DBAPIError) as refused:
            upgrade("audit", as_writer)  # else it would own what it creates
        assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
    finally:
        drop_database(url)


def test_migrating_another_database_reuses_the_existing_role(service_databases):
    url = service_databases["audit"].rsplit("_", 1)[0] + f"_audit2_{uuid.uuid4().hex[:6]}"
    writer = get_settings().audit_db_role
    role = text("select oid, rolcanlogin from pg_roles where rolname = :role")
    recreate_database(url)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            before = conn.execute(role, {"role": writer}).one()  # the session's databases made it
        upgrade("audit", url)
        with engine.connect() as conn:
            # The same role (not dropped and re-created), granted again in this database: append, never change.
            assert conn.execute(role, {"role": writer}).one() == before
            granted = {
                f"{table}:{privilege}": conn.execute(
                    text("select has_table_privilege(:role, :table, :privilege)"),
                    {"role": writer, "table": table, "privilege": privilege},
                ).scalar_one()
                for table in ("audit_entries", "audit_checkpoints")
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }
            assert granted == {
                f"{table}:{privilege}": privilege in ("SELECT", "INSERT")
                for table in ("audit_entries", "audit_checkpoints")
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }
            assert conn.execute(
                text("select has_database_privilege(:role, current_database(), 'CONNECT')"), {"role": writer}
            ).scalar_one()
    finally:
        engine.dispose()
        drop_database(url)
