"""The audit service runs as a role that may append to the log but never change it: grants, not only a trigger."""

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from kombu import Connection, Exchange, Producer
from pyhanko.sign.timestamps import DummyTimeStamper
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
from services.audit.store.tables import audit_entries
from services.runtime.db import Database, drop_database, recreate_database
from services.runtime.migrations import upgrade
from services.runtime.settings import get_settings
from tests.helpers import running, wait_for

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


def test_the_service_connects_as_the_writer_role(audit_service):
    _, engine = audit_service
    with engine.connect() as conn:
        assert conn.execute(text("select current_user")).scalar() == get_settings().audit_db_role


def test_the_service_appends_through_the_broker_but_may_not_update_delete_or_truncate(
    audit_service, amqp_uri
):
    _, engine = audit_service
    school = f"grants-{uuid.uuid4().hex[:8]}"
    exchange = Exchange("gradebook.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        event = _event(school)
        Producer(conn.default_channel).publish(
            Envelope.wrap(event, source_service="gradebook").wire(),
            exchange=exchange,
            routing_key=event.routing_key(),
            declare=[exchange],
        )
    # ...and the normal append path, called directly on the service's engine.
    assert handlers.record(
        Envelope.wrap(_event(school, 1), source_service="gradebook"),
        AuditUnitOfWork(sessionmaker(engine)),
        source="gradebook",
    )

    def recorded() -> int:
        with engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(audit_entries).where(audit_entries.c.chain == school)
            ).scalar_one()

    wait_for(lambda: recorded() == 2, what="both entries")
    tsa = DummyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())
    assert take_checkpoints(sessionmaker(engine), tsa, school) == 1
    for statement in (
        f"update audit_entries set actor_id = 'x' where chain = '{school}'",
        f"delete from audit_entries where chain = '{school}'",
        "truncate audit_entries",
        f"update audit_checkpoints set chain_seq = 1 where chain = '{school}'",
        f"delete from audit_checkpoints where chain = '{school}'",
        "alter table audit_entries disable trigger audit_entries_append_only",
    ):
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text(statement))
        assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), statement
        # Refused by the grants, before the append-only trigger would have been reached.
        assert "append-only" not in str(refused.value.orig), statement
    assert recorded() == 2


def test_migrating_another_database_reuses_the_existing_role(service_databases):
    url = service_databases["audit"].rsplit("_", 1)[0] + f"_audit2_{uuid.uuid4().hex[:6]}"
    recreate_database(url)
    upgrade("audit", url)  # the role exists (the session's databases made it): granted again, not re-created
    drop_database(url)
