"""Two relay replicas can publish one year record's versions out of order; signing keeps the newest all the same.

The relay does not keep per-aggregate order across replicas (each publishes the rows the other has not locked), so
the consumers check versions instead (issue 18 item 7): this shows the first half with two real relays on one outbox
and the real broker, and the second by handing what arrived, in the order it arrived, to signing's handler.
"""

import json
import threading
import uuid
from collections.abc import Sequence

import pytest
from kombu import Connection
from sqlalchemy.orm import sessionmaker

from contracts.envelope import Envelope, parse_envelope
from contracts.transcript import TranscriptAssembledV1
from services.gradebook.store.tables import outbox as outbox_table
from services.runtime.consume import handle_once
from services.runtime.db import make_engine, transaction
from services.runtime.documents import FakeDocuments
from services.runtime.outbox import Outbox
from services.runtime.relay import ConfirmingPublisher, OutboxRelay, OutgoingMessage
from services.signing.app.handlers import CONSUMER_ASSEMBLED, register_record
from services.signing.app.unit_of_work import SigningUnitOfWork
from services.transcript.app.handlers import announced_plan
from tests.helpers import tap_queue
from tests.integration.signing.records import documents, year_record
from tests.service.support import units_of_work

pytestmark = pytest.mark.integration

RECORD = year_record()
XML, PDF, _ = documents(RECORD)


class StalledPublisher(ConfirmingPublisher):
    """A replica that stalls between locking its batch and publishing it (a GC pause, a slow broker link)."""

    def __init__(self, amqp_uri: str) -> None:
        super().__init__(amqp_uri)
        self.holding, self.go = threading.Event(), threading.Event()

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        self.holding.set()
        assert self.go.wait(60), "the stalled replica was never released"
        super().publish_batch(messages)


@pytest.fixture
def engines(service_databases):
    # One service's outbox (the relay is the same code for every service) and the signing database.
    outbox_engine, signing_engine = (
        make_engine(service_databases["gradebook"]),
        make_engine(service_databases["signing"]),
    )
    with outbox_engine.begin() as conn:
        conn.execute(outbox_table.delete())
    yield outbox_engine, signing_engine
    outbox_engine.dispose()
    signing_engine.dispose()


@pytest.fixture
def tap(amqp_uri, unique):
    with tap_queue(
        amqp_uri, f"tap-assembled-{unique}", "transcript.events", TranscriptAssembledV1.routing_key()
    ) as name:
        yield name


def assembled(source: FakeDocuments, **changes: object) -> TranscriptAssembledV1:
    return TranscriptAssembledV1(
        **{
            "school_id": RECORD.school_id,
            "class_id": "c1",
            "student_id": RECORD.student_id,
            "transcript_id": RECORD.transcript_id,
            "year_record_id": f"yr-{uuid.uuid4().hex[:12]}",
            "school_year": RECORD.school_year,
            "version": 1,
            "xml_sha256": source.put(XML),
            "pdf_sha256": source.put(PDF),
            "signature_plan": announced_plan(RECORD),
            **changes,
        }
    )


def received(amqp_uri: str, queue: str) -> list[Envelope[TranscriptAssembledV1]]:
    out = []
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            out.append(parse_envelope(TranscriptAssembledV1, json.loads(message.body)))
    return out


def test_two_relay_replicas_publish_versions_out_of_order_and_signing_keeps_only_the_newest(
    engines, amqp_uri, tap
):
    outbox_engine, signing_engine = engines
    source = FakeDocuments()
    first = assembled(source)
    second = assembled(source, version=2, supersedes=first.year_record_id)
    outbox = Outbox("transcript", outbox_table)
    for event in (first, second):  # committed in order: version 1, then version 2
        with transaction(sessionmaker(outbox_engine)) as session:
            outbox.add(session, event, subject=event.transcript_id)

    stalled = StalledPublisher(amqp_uri)
    replica_a = OutboxRelay("transcript", outbox_engine, outbox_table, stalled, batch_size=1)
    replica_b = OutboxRelay(
        "transcript", outbox_engine, outbox_table, ConfirmingPublisher(amqp_uri), batch_size=1
    )
    a = threading.Thread(target=replica_a.relay_once)
    a.start()
    assert stalled.holding.wait(30)  # replica A holds version 1's row
    assert replica_b.relay_once() == 1  # replica B skips it and publishes version 2
    stalled.go.set()
    a.join(30)
    stalled.close()
    replica_b.publisher.close()

    arrived = received(amqp_uri, tap)
    assert [e.data.version for e in arrived] == [2, 1]  # the relays did not keep the record's order

    opened: list[SigningUnitOfWork] = []
    for delivery in arrived:
        assert handle_once(
            delivery,
            CONSUMER_ASSEMBLED,
            units_of_work(SigningUnitOfWork, signing_engine, opened),
            lambda env, uow: register_record(env, uow, source),
        )
    with SigningUnitOfWork(sessionmaker(signing_engine)) as uow:
        statuses = {
            r: getattr(uow.signing.record(r), "status", None)
            for r in (first.year_record_id, second.year_record_id)
        }
    assert statuses == {first.year_record_id: "cancelled", second.year_record_id: "collecting"}
