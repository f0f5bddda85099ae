"""The transcript tests' stack: gradebook and transcript in containers, and gradebook's outbox relayed to them."""

import threading

import pytest

from services.gradebook.service import GradebookService
from services.gradebook.store.tables import outbox as gradebook_outbox
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from services.transcript.service import TranscriptService
from tests.helpers import purge, running


@pytest.fixture(scope="module")
def stack(amqp_uri, service_databases):
    for s in subscriptions_of(TranscriptService):
        purge(amqp_uri, s.queue)
        purge(amqp_uri, s.dead_letter_queue)
    engine = make_engine(service_databases["gradebook"])
    relay = OutboxRelay("gradebook", engine, gradebook_outbox, ConfirmingPublisher(amqp_uri))
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll_seconds": 0.05})
    with running(GradebookService, amqp_uri) as gradebook, running(TranscriptService, amqp_uri) as transcript:
        thread.start()
        try:
            yield gradebook.http_url, transcript.http_url, make_engine(service_databases["transcript"])
        finally:
            stop.set()
            thread.join(10)
            engine.dispose()
