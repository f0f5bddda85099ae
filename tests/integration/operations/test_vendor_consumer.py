"""The docs' example vendor consumer receives a CloudEvent from the platform (what a whole school year puts on
hocba.public, and that it opens no child's record: tests/e2e/test_cli_up.py)."""

import threading

import pytest
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.main import app
from docs.vendor_consumer import subscribe
from services.gradebook.store.tables import outbox
from services.runtime.db import make_engine, transaction
from services.runtime.outbox import Outbox
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from tests.factories import term_locked
from tests.helpers import queue_depth, wait_for

pytestmark = pytest.mark.integration


def _exists(amqp_uri: str, queue: str) -> bool:
    try:
        queue_depth(amqp_uri, queue)
        return True
    except Exception:  # noqa: BLE001 - not declared yet
        return False


def test_vendor_example_consumer_receives_a_cloudevent_from_the_platform(amqp_uri, service_databases, unique):
    assert CliRunner().invoke(app, ["broker", "setup"]).exit_code == 0  # the platform's exchanges exist
    engine = make_engine(service_databases["gradebook"])
    relay = OutboxRelay("gradebook", engine, outbox, ConfirmingPublisher(amqp_uri))
    while relay.relay_once():
        pass  # earlier tests' unpublished locks go out before the vendor binds: it must see only this one
    received: list[tuple[dict, dict]] = []
    # Bind first (the vendor's durable queue), as the docs tell a vendor to do once.
    ready = threading.Event()
    result: dict[str, int] = {}

    def vendor() -> None:
        ready.set()
        result["n"] = subscribe(
            amqp_uri,
            f"acme{unique}",
            lambda a, d: received.append((a, d)),
            types="vn.hocba.gradebook.term.locked.v1",
            limit=1,
        )

    thread = threading.Thread(target=vendor)
    thread.start()
    ready.wait()
    wait_for(lambda: _exists(amqp_uri, f"vendor-acme{unique}-events"), what="the vendor's queue")
    event = term_locked(school_id="s-vendor", class_id=f"c-{unique}", class_name="6A", grade=6, term="hk1")
    with transaction(sessionmaker(engine)) as session:
        envelope = Outbox("gradebook", outbox).add(session, event, subject=f"class/c-{unique}")
    while relay.relay_once():
        pass
    thread.join(30)
    engine.dispose()
    assert result == {"n": 1}
    attributes, data = received[0]
    assert attributes["id"] == str(envelope.id) and attributes["type"] == "vn.hocba.gradebook.term.locked.v1"
    assert attributes["specversion"] == "1.0" and attributes["source"] == "/hocba/gradebook"
    assert data["class_id"] == f"c-{unique}" and "snapshot" not in data
