"""A sealed record fed straight to sync: registered once, then sent by the submission worker through FakeGateway.

No signing service and no province gateway: the sealed documents come from FakeDocuments, the answers from a script.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from contracts.envelope import Envelope
from contracts.signing import TranscriptSealedV1
from contracts.sync import SyncRecordChangedV1
from services.runtime.consume import handle_once
from services.runtime.documents import FakeDocuments
from services.sync.adapters.gateway import UNREACHABLE, Answer, Call, FakeGateway
from services.sync.app.handlers import CONSUMER_SEALED, Submitter, register_sealed
from services.sync.app.unit_of_work import SyncUnitOfWork
from services.sync.domain.breaker import CircuitBreaker
from services.sync.domain.model import Submission
from services.sync.domain.rules import Backoff
from services.sync.store.tables import submissions
from tests.service.support import database, published, units_of_work

pytestmark = pytest.mark.integration  # the sync database only

PDF, XML = b"%PDF-1.7 sealed", b"<YearRecord/>"


engine = database("sync")


@pytest.fixture(autouse=True)
def no_submissions(engine):
    """The worker sends whatever is due in the table: each test starts from none."""
    with engine.begin() as conn:
        conn.execute(delete(submissions))


def sealed(documents: FakeDocuments, pdf_content: bytes = PDF) -> TranscriptSealedV1:
    """A sealed version 1 whose PDF (``pdf_content``) and record XML ``documents`` now hold."""
    record = f"yr-{uuid.uuid4().hex[:12]}"
    pdf, xml = documents.put(pdf_content), documents.put(XML)
    return TranscriptSealedV1(
        school_id="s1",
        class_id="c1",
        student_id="hs-1",
        transcript_id="hb-1",
        year_record_id=record,
        school_year="2025-2026",
        grade=8,
        version=1,
        lookup_code=uuid.uuid4().hex,
        pdf_document_id=pdf,
        pdf_sha256=pdf,
        record_xml_sha256=xml,
        xml_document_id="x" * 64,
        xml_sha256="x" * 64,
        signatures=4,
        sealed_at=datetime(2026, 5, 20, 9, 0, tzinfo=UTC),
    )


def delivered(event: TranscriptSealedV1) -> Envelope[TranscriptSealedV1]:
    return Envelope.wrap(event, source_service="signing")


def register(delivery: Envelope[TranscriptSealedV1], engine, opened: list[SyncUnitOfWork]) -> bool:
    """What `SyncService.on_sealed` does with a delivery, minus the broker."""
    return handle_once(
        delivery,
        CONSUMER_SEALED,
        units_of_work(SyncUnitOfWork, engine, opened),
        lambda env, uow: register_sealed(env.data, uow),
    )


def submitter(
    engine,
    opened,
    gateway: FakeGateway,
    documents: FakeDocuments,
    breaker: CircuitBreaker,
    backoff: Backoff = Backoff(base=0.0, cap=0.0),
    today: Callable[[], date] = lambda: date(2026, 6, 1),
) -> Submitter:
    """`SyncService._submitter` with the fakes: no wait between tries (unless ``backoff``), the reporting day
    before the cutoff."""
    return Submitter(
        units_of_work(SyncUnitOfWork, engine, opened),
        gateway,
        documents,
        lambda uow, school_id: f"token-{school_id}",
        breaker=breaker,
        backoff=backoff,
        today=today,
    )


def submission(engine, year_record_id: str) -> Submission:
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        row = uow.submissions.get(year_record_id)
    assert row is not None
    return row


def changes(opened: list[SyncUnitOfWork]) -> list[tuple[str, str]]:
    return [
        (e.data.year_record_id, e.data.status)
        for e in published(opened)
        if e.type == SyncRecordChangedV1.ce_type()
    ]


def test_a_sealed_record_is_submitted_once_and_accepted(engine):
    documents, gateway, opened = FakeDocuments(), FakeGateway(), []
    event = sealed(documents)
    key = f"hocba:{event.year_record_id}:v1:submit"
    worker = submitter(engine, opened, gateway, documents, CircuitBreaker())

    delivery = delivered(event)
    assert register(delivery, engine, opened)
    assert not register(delivery, engine, opened)  # redelivered: claimed already, no second submission
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # nothing left to send

    assert gateway.calls == [Call("submit", key, assessment="regular")]
    assert gateway.records["gw-1"]["pdf"] == PDF and gateway.records["gw-1"]["xml"] == XML
    row = submission(engine, event.year_record_id)
    assert (row.status, row.gateway_record_id, row.attempts) == ("accepted", "gw-1", 1)
    assert changes(opened) == [(event.year_record_id, "accepted")]


def test_transient_failures_are_retried_with_the_same_key_until_accepted_and_nothing_is_dead_lettered(engine):
    documents, opened = FakeDocuments(), []
    gateway = FakeGateway(Answer(503, {"reason": "unavailable"}), UNREACHABLE)  # then it accepts
    breaker = CircuitBreaker()
    event = sealed(documents)
    worker = submitter(engine, opened, gateway, documents, breaker)
    assert register(
        delivered(event), engine, opened
    )  # consuming only writes the row: the gateway cannot fail it

    assert worker.run_once(limit=1) == 0
    row = submission(engine, event.year_record_id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "gateway answered 503")
    assert worker.run_once(limit=1) == 0
    assert submission(engine, event.year_record_id).last_error.startswith("ConnectError")
    assert breaker.failures == 2
    assert worker.run_once(limit=1) == 1

    row = submission(engine, event.year_record_id)
    assert (row.status, row.attempts, row.gateway_record_id) == ("accepted", 3, "gw-1")
    assert len(gateway.calls) == 3
    assert {c.key for c in gateway.calls} == {f"hocba:{event.year_record_id}:v1:submit"}
    assert (breaker.state, breaker.failures) == ("closed", 0)
    assert changes(opened) == [(event.year_record_id, "accepted")]  # never rejected


def test_a_rejection_is_final_and_unavailable_documents_never_reach_the_gateway(engine):
    documents, opened = FakeDocuments(), []
    gateway = FakeGateway(Answer(422, {"reason": "invalid_signature", "detail": "chữ ký không hợp lệ"}))
    # Tries wait as in production (≥ 0.5 s): the missing documents are tried once in this round.
    worker = submitter(engine, opened, gateway, documents, CircuitBreaker(), Backoff())
    rejected = sealed(documents)
    missing = sealed(FakeDocuments(), b"%PDF-1.7 another")  # its PDF is not where the worker looks
    assert register(delivered(rejected), engine, opened)
    assert register(delivered(missing), engine, opened)

    assert worker.run_once() == 1

    assert [c.operation for c in gateway.calls] == ["submit"]
    row = submission(engine, rejected.year_record_id)
    assert (row.status, row.rejection_reason) == ("rejected", "invalid_signature")
    row = submission(engine, missing.year_record_id)
    assert (row.status, row.last_error) == ("pending", "documents unavailable: DocumentUnavailable")
    assert changes(opened) == [(rejected.year_record_id, "rejected")]


def test_at_half_past_eleven_utc_on_30_june_the_cutoff_has_passed_in_vietnam(engine):
    """06:30 on 1 July in Hà Nội: the gateway counts the day in Vietnam, so sync must refuse too (a UTC date would
    still say 30 June and submit for seven more hours)."""
    from services.runtime.calendar import reporting_day, vietnam_today
    from services.runtime.settings import Settings

    moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert moment.date() == date(2026, 6, 30) and vietnam_today(lambda: moment) == date(2026, 7, 1)
    today = reporting_day(Settings(reporting_day=None), clock=lambda: moment)
    assert today() == date(2026, 7, 1)

    documents, gateway, opened = FakeDocuments(), FakeGateway(), []
    event = sealed(documents)
    assert register(delivered(event), engine, opened)
    assert submitter(engine, opened, gateway, documents, CircuitBreaker(), today=today).run_once() == 1
    assert gateway.calls == []  # the gateway is never called after the cutoff
    row = submission(engine, event.year_record_id)
    assert (row.status, row.rejection_reason) == ("rejected", "cutoff_passed")
    # At 16:59 UTC it is 23:59 in Hà Nội: still 30 June, still before the cutoff.
    before = reporting_day(
        Settings(reporting_day=None), clock=lambda: datetime(2026, 6, 30, 16, 59, tzinfo=UTC)
    )
    assert before() == date(2026, 6, 30)


def test_a_record_on_the_supplementary_path_is_reported_as_such_until_15_august(engine):
    """A re-test student's record (the gradebook decided the path; transcript and signing carried it): on 20 July it
    is still before its cutoff, and the gateway is told it is the supplementary assessment."""
    documents, gateway, opened = FakeDocuments(), FakeGateway(), []
    event = sealed(documents).model_copy(update={"reporting_path": "supplementary"})
    regular = sealed(documents)
    for e in (event, regular):
        assert register(delivered(e), engine, opened)
    worker = submitter(engine, opened, gateway, documents, CircuitBreaker(), today=lambda: date(2026, 7, 20))
    assert worker.run_once() == 2
    assert (
        Call("submit", f"hocba:{event.year_record_id}:v1:submit", assessment="supplementary") in gateway.calls
    )
    assert submission(engine, event.year_record_id).status == "accepted"
    late = submission(engine, regular.year_record_id)  # the regular one missed its 30 June
    assert (late.status, late.rejection_reason) == ("rejected", "cutoff_passed")


def test_a_version_delivered_after_the_one_that_supersedes_it_is_never_sent(engine):
    # Relay replicas publish one aggregate's events out of order, and an operator may replay an old sealed event
    # from a dead-letter queue: version 1 arrives after version 2. The province must get version 2 alone.
    documents, gateway, opened = FakeDocuments(), FakeGateway(), []
    first = sealed(documents)
    second = sealed(documents, b"%PDF-1.7 sealed v2").model_copy(
        update={"version": 2, "supersedes": first.year_record_id}
    )
    worker = submitter(engine, opened, gateway, documents, CircuitBreaker())

    assert register(delivered(second), engine, opened)
    assert worker.run_once() == 1  # the province has version 2
    assert register(delivered(first), engine, opened)
    assert worker.run_once() == 0

    assert gateway.calls == [Call("submit", f"hocba:{second.year_record_id}:v2:submit", assessment="regular")]
    assert submission(engine, first.year_record_id).status == "superseded"
    assert submission(engine, second.year_record_id).status == "accepted"
