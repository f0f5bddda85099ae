"""Sync against the reference gateway (a real process, the project's verifier inside): sealed records reported
exactly once through errors, drops and timeouts; an outage opens the breaker and drains after; withdraw and
replace before the cutoff, refused after it."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.main import app as cli_app
from contracts.envelope import Envelope
from contracts.signing import TranscriptSealedV1
from sandbox.issuer import mint_token
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from services.signing.documents import pdf as pdf_doc
from services.signing.service import SigningService
from services.signing.store.repository import SigningDocuments
from services.sync.app import operations
from services.sync.app.unit_of_work import SyncUnitOfWork
from services.sync.domain.breaker import CircuitBreaker
from services.sync.domain.rules import Backoff
from services.sync.service import SyncService
from services.sync.store.tables import outbox as sync_outbox
from services.sync.store.tables import submissions
from tests.helpers import purge, queue_depth, rewire, running, wait_for, wiring_of
from tests.integration.gateway.support import GatewayProcess, _token
from tests.integration.signing.records import SCHOOL, documents, year_record
from tests.integration.signing.signed import sign_steps

pytestmark = pytest.mark.integration
SCHOOL_YEAR = "2026-2027"  # cutoff 30/06/2027
BEFORE_CUTOFF = date(2027, 5, 20)
COOL_DOWN = 2.0  # the breaker's, in seconds
WINDOW = 2 * COOL_DOWN  # how long an outage is watched after the breaker opens
BACKOFF = Backoff(base=0.2, cap=2.0)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from services.runtime.db import drop_database
    from tests.integration.gateway.conftest import GATEWAY_DB

    drop_database(GATEWAY_DB + "_sync")  # the gateway creates it on start
    server = GatewayProcess(GATEWAY_DB + "_sync", verifier="services.signing.verifier:check").start(
        tmp_path_factory.mktemp("gateway") / "gateway.log"
    )
    yield server
    server.stop()


def _sealed(n: int, **changes: Any) -> list[tuple[TranscriptSealedV1, bytes, bytes]]:
    """Year records signed by every step and sealed, as the signing service would announce them (SCHOOL[0]'s in
    SCHOOL_YEAR, grade 8, unless ``changes`` say otherwise)."""
    out = []
    for _ in range(n):
        yr = f"yr-{uuid.uuid4().hex[:12]}"
        fields: dict[str, Any] = {
            "year_record_id": yr,
            "transcript_id": f"hb-{yr}",
            "student_id": f"st-{yr}",
            "school_year": SCHOOL_YEAR,
            "lookup_code": uuid.uuid4().hex,
        }
        record = year_record(**(fields | changes))
        xml, pdf, plan = documents(record)
        sealed = sign_steps(pdf_doc.add_signature_fields(pdf, plan), plan, [s.order for s in plan.steps])
        event = TranscriptSealedV1(
            school_id=record.school_id,
            class_id="8a1",
            student_id=record.student_id,
            transcript_id=record.transcript_id,
            year_record_id=yr,
            school_year=record.school_year,
            grade=record.grade,
            version=record.version,
            supersedes=record.supersedes,
            lookup_code=record.lookup_code,
            pdf_document_id="x",
            pdf_sha256=hashlib.sha256(sealed).hexdigest(),
            record_xml_sha256=hashlib.sha256(xml).hexdigest(),
            xml_document_id="x",
            xml_sha256="0" * 64,
            signatures=len(plan.steps),
            sealed_at=datetime.now(UTC),
        )
        out.append((event, sealed, xml))
    return out


@pytest.fixture(scope="module")
def stack(amqp_uri, service_databases, gateway):
    for s in subscriptions_of(SyncService):
        purge(amqp_uri, s.queue)
        purge(amqp_uri, s.dead_letter_queue)
    signing_db = make_engine(service_databases["signing"])
    with (
        running(SigningService, amqp_uri) as signing,
        running(
            SyncService,
            amqp_uri,
            SETTINGS={
                "gateway_url": gateway.url,
                "gateway_timeout_seconds": 2.0,
                "sync_submit_seconds": 0.2,  # a retry that is due goes out within a fifth of a second
                "signing_url": signing.http_url,
            },
            ADAPTERS={"today": lambda: BEFORE_CUTOFF, "breaker": _breaker(), "backoff": BACKOFF},
        ) as sync,
    ):
        operator = mint_token(get_settings(), user_id="ops", roles=["operator"])
        http_client.put(
            f"{sync.http_url}/schools/{SCHOOL[0]}/sync/credentials",
            json={"token": _token(SCHOOL[0])},
            headers={"Authorization": f"Bearer {operator}"},
        ).raise_for_status()
        yield {
            "gateway": gateway,
            "sync": sync.http_url,
            "container": sync,
            "sync_db": make_engine(service_databases["sync"]),
            "signing_docs": sessionmaker(signing_db),
        }


def _breaker() -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=4, cool_down=COOL_DOWN)


class _NoBreaker(CircuitBreaker):
    """The negative control: counts failures and reports "open" like the real breaker, but lets every try through."""

    def allow(self, now: float) -> bool:
        return True


def _publish(stack, amqp_uri, sealed) -> None:
    with stack["signing_docs"]() as session, session.begin():
        docs = SigningDocuments(session)
        for _, pdf, xml in sealed:
            docs.put(pdf, "application/pdf")
            docs.put(xml, "application/xml")
    with Connection(amqp_uri) as conn:
        producer = Producer(conn.default_channel)
        for event, _, _ in sealed:
            producer.publish(
                Envelope.wrap(event, source_service="signing").wire(),
                exchange=Exchange("signing.events", type="topic", durable=True),
                routing_key=TranscriptSealedV1.routing_key(),
            )


def _rows(stack, ids):
    with stack["sync_db"].connect() as conn:
        return {
            r.year_record_id: dict(r._mapping)
            for r in conn.execute(select(submissions).where(submissions.c.year_record_id.in_(ids)))
        }


def _faults(gateway, **settings):
    with gateway.admin() as admin:
        admin.post("/_admin/faults", json=settings).raise_for_status()


def _stats(gateway) -> dict:
    with gateway.admin() as admin:
        return admin.get("/_admin/stats").json()


def _staff(school: str | None = SCHOOL[0], role: str = "principal") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {mint_token(get_settings(), user_id='ht', roles=[role], school_id=school)}"
    }


def test_through_errors_drops_and_timeouts_every_record_is_accepted_exactly_once(stack, amqp_uri):
    gateway = stack["gateway"]
    with gateway.admin() as admin:
        admin.post("/_admin/clock", json={"today": BEFORE_CUTOFF.isoformat()}).raise_for_status()
    sealed = _sealed(12)
    ids = [e.year_record_id for e, _, _ in sealed]
    _faults(
        gateway,
        error_rate=0.3,
        drop_rate=0.1,
        accept_timeout_rate=0.15,
        accept_timeout_mode="hang",
        hang_seconds=3,
        seed=11,
    )
    try:
        _publish(stack, amqp_uri, sealed)
        rows = wait_for(
            lambda: (
                (r := _rows(stack, ids))
                and len(r) == 12
                and all(x["status"] == "accepted" for x in r.values())
                and r
            ),
            timeout=180,
            what="all 12 accepted",
        )
    finally:
        _faults(gateway)
    stats = _stats(gateway)
    per_record = {k: v for k, v in stats["year_records"].items() if k in ids}
    assert sorted(per_record) == sorted(ids)
    assert all(v["accepted"] == 1 for v in per_record.values()), per_record
    assert sum(r["attempts"] for r in rows.values()) > 12  # the faults really bit
    assert all(r["gateway_record_id"] for r in rows.values())
    sync_queue = next(s for s in subscriptions_of(SyncService) if s.event_model is TranscriptSealedV1)
    assert queue_depth(amqp_uri, sync_queue.dead_letter_queue) == 0
    status = http_client.get(f"{stack['sync']}/schools/{SCHOOL[0]}/sync/status", headers=_staff()).json()
    assert status["accepted"] >= 12 and status["pending"] == 0 and status["classes"][0]["days_to_cutoff"] > 0
    # The principal's view from the command line: the same report, with the totals at the top.
    from typer.testing import CliRunner

    from cli.main import app

    shown = CliRunner().invoke(
        app, ["sync", "status", "--school", SCHOOL[0], "--json", "--url", stack["sync"]]
    )
    assert shown.exit_code == 0, shown.output
    totals = json.loads(shown.output)
    assert {k: totals[k] for k in ("accepted", "pending", "rejected", "withdrawn")} == {
        k: status[k] for k in ("accepted", "pending", "rejected", "withdrawn")
    }


def _allowed(elapsed: float) -> int:
    """The most tries a breaker lets through in ``elapsed`` seconds of an outage once it is open: its probes are at
    least a cool-down apart; one more for a try made before counting began but written to its row after."""
    return math.floor(elapsed / COOL_DOWN) + 2


def _attempts(stack, ids) -> int:
    return sum(r["attempts"] for r in _rows(stack, ids).values())


def _outage(stack, amqp_uri, breaker: CircuitBreaker) -> tuple[int, float]:
    """Four records sealed during a gateway outage and sent by a submitter with ``breaker``. From the moment the
    status shows the breaker open, the records' tries are counted until WINDOW has passed, or until they exceed
    what a breaker allows (the control stops there, early). Then the outage ends and everything must drain.
    Returns the tries counted and the seconds they were counted over."""
    gateway = stack["gateway"]
    sealed = _sealed(4)
    ids = [e.year_record_id for e, _, _ in sealed]
    kept = rewire(stack["container"], breaker=breaker)
    try:
        _faults(gateway, outage_seconds=0, outage_mode="error")
        try:
            _publish(stack, amqp_uri, sealed)
            wait_for(
                lambda: (
                    http_client.get(
                        f"{stack['sync']}/schools/{SCHOOL[0]}/sync/status", headers=_staff()
                    ).json()["gateway"]["breaker"]
                    in ("open", "half_open")
                ),
                timeout=60,
                what="the breaker to open",
            )
            opened, before = time.monotonic(), _attempts(stack, ids)

            def counted() -> tuple[int, float] | None:
                elapsed, tries = time.monotonic() - opened, _attempts(stack, ids) - before
                return (tries, elapsed) if tries > _allowed(elapsed) or elapsed >= WINDOW else None

            tries, elapsed = wait_for(counted, timeout=WINDOW + 30, interval=0.1, what="the outage watched")
            assert all(r["status"] == "pending" for r in _rows(stack, ids).values())
        finally:
            _faults(gateway)
        wait_for(
            lambda: (r := _rows(stack, ids)) and all(x["status"] == "accepted" for x in r.values()),
            timeout=120,
            what="everything drained after the outage",
        )
    finally:
        rewire(stack["container"], **kept)
    sync_queue = next(s for s in subscriptions_of(SyncService) if s.event_model is TranscriptSealedV1)
    assert queue_depth(amqp_uri, sync_queue.dead_letter_queue) == 0
    return tries, elapsed


def test_an_outage_opens_the_breaker_nothing_is_dead_lettered_and_everything_drains(stack, amqp_uri):
    tries, elapsed = _outage(stack, amqp_uri, _breaker())
    assert elapsed >= WINDOW and tries <= _allowed(elapsed), (
        tries,
        elapsed,
    )  # only probes reached the gateway


def test_without_the_breaker_the_same_outage_exceeds_the_bound(stack, amqp_uri):
    """Negative control for the test above: every retry let through breaks the same bound, and soon."""
    tries, elapsed = _outage(stack, amqp_uri, _NoBreaker(failures_to_open=4, cool_down=COOL_DOWN))
    assert tries > _allowed(elapsed), (tries, elapsed)


def test_withdraw_and_replace_before_the_cutoff_refused_after_it(stack, amqp_uri):
    gateway = stack["gateway"]
    (first, second) = _sealed(2)
    _publish(stack, amqp_uri, [first, second])
    ids = [first[0].year_record_id, second[0].year_record_id]
    wait_for(
        lambda: (
            (r := _rows(stack, ids)) and len(r) == 2 and all(x["status"] == "accepted" for x in r.values())
        ),
        timeout=90,
        what="both accepted",
    )

    withdrawn = http_client.post(
        f"{stack['sync']}/schools/{SCHOOL[0]}/sync/records/{ids[0]}/withdraw",
        json={"reason": "Báo cáo nhầm học sinh"},
        headers=_staff(),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert _rows(stack, [ids[0]])[ids[0]]["status"] == "withdrawn"

    # An amended version of the second record: sync replaces it at the gateway.
    event, _, _ = second
    record = year_record(
        year_record_id=f"{event.year_record_id}-v2",
        transcript_id=event.transcript_id,
        student_id=event.student_id,
        school_year=SCHOOL_YEAR,
        lookup_code=event.lookup_code,
        version=2,
        supersedes=event.year_record_id,
    )
    xml, pdf, plan = documents(record)
    sealed_v2 = sign_steps(pdf_doc.add_signature_fields(pdf, plan), plan, [s.order for s in plan.steps])
    v2 = event.model_copy(
        update={
            "year_record_id": record.year_record_id,
            "version": 2,
            "supersedes": event.year_record_id,
            "pdf_sha256": hashlib.sha256(sealed_v2).hexdigest(),
            "record_xml_sha256": hashlib.sha256(xml).hexdigest(),
        }
    )
    _publish(stack, amqp_uri, [(v2, sealed_v2, xml)])
    rows = wait_for(
        lambda: (
            (r := _rows(stack, [record.year_record_id, event.year_record_id]))
            and r.get(record.year_record_id, {}).get("status") == "accepted"
            and r
        ),
        timeout=90,
        what="version 2 accepted as a replacement",
    )
    assert rows[event.year_record_id]["status"] == "replaced"
    with gateway.client(SCHOOL[0]) as school:
        listed = {
            (i["year_record_id"], i["version"]): i
            for i in school.get("/api/v1/records", params={"transcript_id": event.transcript_id}).json()[
                "items"
            ]
        }
    assert listed[(record.year_record_id, 2)]["status"] == "current"

    # After the cutoff: withdrawing is refused locally, in Vietnamese, and the gateway's record stays as it was.
    rewire(stack["container"], today=lambda: date(2027, 7, 2))
    with gateway.admin() as admin:
        admin.post("/_admin/clock", json={"today": "2027-07-02"}).raise_for_status()
    try:
        late = http_client.post(
            f"{stack['sync']}/schools/{SCHOOL[0]}/sync/records/{record.year_record_id}/withdraw",
            json={"reason": "Thử sau hạn"},
            headers=_staff(),
        )
        assert late.status_code == 409
        assert "30/06/2027" in late.json()["detail"] and "quá hạn" in late.json()["detail"]
        with gateway.client(SCHOOL[0]) as school:
            after = {
                (i["year_record_id"], i["version"]): i
                for i in school.get("/api/v1/records", params={"transcript_id": event.transcript_id}).json()[
                    "items"
                ]
            }
        assert after[(record.year_record_id, 2)]["status"] == "effective"
        assert (
            after[(record.year_record_id, 2)]["pdf_sha256"]
            == listed[(record.year_record_id, 2)]["pdf_sha256"]
        )
        # Sync announces, once, that the record is effective (transcript marks it so).
        new_uow = lambda: SyncUnitOfWork(sessionmaker(stack["sync_db"]))  # noqa: E731
        assert operations.mark_effective(new_uow, date(2027, 7, 2)) >= 1
        assert operations.mark_effective(new_uow, date(2027, 7, 2)) == 0
        with stack["sync_db"].connect() as conn:
            announced = [
                r.body["data"]["year_record_id"]
                for r in conn.execute(
                    select(sync_outbox.c.body).where(
                        sync_outbox.c.ce_type == "vn.hocba.sync.record.changed.v1"
                    )
                )
                if r.body["data"]["status"] == "effective"
            ]
        assert record.year_record_id in announced
    finally:
        rewire(stack["container"], today=lambda: BEFORE_CUTOFF)
        with gateway.admin() as admin:
            admin.post("/_admin/clock", json={"today": BEFORE_CUTOFF.isoformat()}).raise_for_status()


RECEIVING = "s-truong-nhan"


def _accepted_record(stack, amqp_uri):
    """One sealed record of SCHOOL[0] that the province accepted, and the receiving school able to read there."""
    operator = mint_token(get_settings(), user_id="ops", roles=["operator"])
    http_client.put(
        f"{stack['sync']}/schools/{RECEIVING}/sync/credentials",
        json={"token": _token(RECEIVING)},
        headers={"Authorization": f"Bearer {operator}"},
    ).raise_for_status()
    ((event, pdf, _),) = sealed = _sealed(1)
    _publish(stack, amqp_uri, sealed)
    wait_for(
        lambda: (
            _rows(stack, [event.year_record_id]).get(event.year_record_id, {}).get("status") == "accepted"
        ),
        timeout=90,
        what="accepted",
    )
    return event


def _ask(stack, from_school: str, lookup_code: str, role: str = "staff") -> httpx.Response:
    return http_client.post(
        f"{stack['sync']}/schools/{RECEIVING}/sync/transfer-requests",
        json={"from_school": from_school, "lookup_code": lookup_code},
        headers=_staff(RECEIVING, role),
    )


def _outbox(stack, ce_type: str) -> list[dict]:
    with stack["sync_db"].connect() as conn:
        return [
            r.body["data"]
            for r in conn.execute(select(sync_outbox.c.body).where(sync_outbox.c.ce_type == ce_type))
        ]


def _audited(stack, request_id: str) -> set[tuple[str, str, str, str]]:
    return {
        (a["action"], a["school_id"], a["actor_id"], a["actor_role"])
        for a in _outbox(stack, "vn.hocba.audit.recorded.v1")
        if a["entity_type"] == "transfer_request" and a["entity_id"] == request_id
    }


def _handed_over(stack, transcript_id: str) -> bool:
    return any(
        h["transcript_id"] == transcript_id for h in _outbox(stack, "vn.hocba.sync.transcript.transferred.v1")
    )


def test_a_code_at_a_school_that_does_not_hold_it_answers_exactly_like_an_unknown_code(stack, amqp_uri):
    event = _accepted_record(stack, amqp_uri)
    unknown = _ask(stack, SCHOOL[0], uuid.uuid4().hex)
    assert (
        unknown.status_code == 404
        and "Không tìm thấy học bạ có mã số tra cứu này" in unknown.json()["detail"]
    )
    for elsewhere in (
        "s-khac",
        "truong-khong-co",
    ):  # the student's code, named at a school that is not theirs
        wrong = _ask(stack, elsewhere, event.lookup_code)
        assert (wrong.status_code, wrong.json()) == (404, unknown.json())
    malformed = _ask(stack, SCHOOL[0], "z" * 32)
    assert (malformed.status_code, malformed.json()) == (404, unknown.json())
    own = http_client.post(
        f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests",
        json={"from_school": SCHOOL[0], "lookup_code": event.lookup_code},
        headers=_staff(SCHOOL[0], "staff"),
    )
    assert own.status_code == 422 and "hai trường khác nhau" in own.json()["detail"]
    # A teacher of the receiving school cannot ask.
    assert _ask(stack, SCHOOL[0], event.lookup_code, role="homeroom").status_code == 403
    listed = http_client.get(
        f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests", headers=_staff()
    ).json()
    assert not [r for r in listed["to_decide"] if r["to_school"] in ("s-khac", "truong-khong-co")]


def test_a_transfer_is_handed_over_only_when_the_sending_principal_approves(stack, amqp_uri):
    event = _accepted_record(stack, amqp_uri)
    receiving = RECEIVING
    # The family brings the paper học bạ: the clerk types the code as printed (a UUID, capitals or hyphens).
    printed = str(uuid.UUID(event.lookup_code)).upper()
    asked = _ask(stack, SCHOOL[0], printed)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["status"] == "pending" and request["from_school"] == SCHOOL[0]
    assert "transcript_id" not in request  # the receiving school learns the học bạ's id only once handed over
    again = _ask(stack, SCHOOL[0], event.lookup_code)
    assert again.status_code == 201 and again.json()["id"] == request["id"]

    # Nothing is handed over while the request waits.
    assert not _handed_over(stack, event.transcript_id)
    waiting = http_client.get(
        f"{stack['sync']}/schools/{receiving}/sync/incoming", headers=_staff(receiving)
    ).json()
    assert event.transcript_id not in {i["transcript_id"] for i in waiting}
    sent = http_client.get(
        f"{stack['sync']}/schools/{receiving}/sync/transfer-requests", headers=_staff(receiving, "staff")
    ).json()
    assert [r["status"] for r in sent["sent"] if r["id"] == request["id"]] == ["pending"]
    assert not [r for r in sent["to_decide"] if r["id"] == request["id"]]
    # The sending principal sees it, with the student as the school knows them.
    to_decide = http_client.get(
        f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests", headers=_staff()
    ).json()
    (mine,) = [r for r in to_decide["to_decide"] if r["id"] == request["id"]]
    assert (mine["student_id"], mine["transcript_id"], mine["to_school"]) == (
        event.student_id,
        event.transcript_id,
        receiving,
    )

    # Only the sending school's principal decides.
    approve = f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests/{request['id']}/approve"
    assert http_client.post(approve, headers=_staff(SCHOOL[0], "staff")).status_code == 403
    assert http_client.post(approve, headers=_staff(receiving)).status_code == 404
    own_side = http_client.post(
        f"{stack['sync']}/schools/{receiving}/sync/transfer-requests/{request['id']}/approve",
        headers=_staff(receiving),
    )
    assert (
        own_side.status_code == 404
        and own_side.json()["detail"] == "Không tìm thấy yêu cầu chuyển trường này."
    )
    assert not _handed_over(stack, event.transcript_id)

    approved = http_client.post(approve, headers=_staff())
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["transcript_id"] == event.transcript_id
    twice = http_client.post(approve, headers=_staff())
    assert twice.status_code == 409 and "đã được xử lý (đã đồng ý)" in twice.json()["detail"]
    handed = _outbox(stack, "vn.hocba.sync.transcript.transferred.v1")
    assert {
        "transcript_id": event.transcript_id,
        "from_school": SCHOOL[0],
        "to_school": receiving,
        "student_id": event.student_id,
    } in [
        {k: h[k] for k in ("transcript_id", "from_school", "to_school", "student_id")} for h in handed
    ]  # the receiving school's transcript service links its next record to this one; the sending school's
    # gradebook hands over a term the student studied there this year (the student as that school knows them)
    # Each step is in both schools' logs, with who took it.
    assert _audited(stack, request["id"]) == {
        ("transfer.request", SCHOOL[0], "ht", "staff"),
        ("transfer.request", receiving, "ht", "staff"),
        ("transfer.approve", SCHOOL[0], "ht", "principal"),
        ("transfer.approve", receiving, "ht", "principal"),
    }
    incoming = http_client.get(
        f"{stack['sync']}/schools/{receiving}/sync/incoming", headers=_staff(receiving)
    ).json()
    (item,) = [i for i in incoming if i["transcript_id"] == event.transcript_id]
    assert item["school_id"] == SCHOOL[0] and item["lookup_code"] == event.lookup_code
    document = http_client.get(
        f"{stack['sync']}/schools/{receiving}/sync/incoming/{item['id']}/pdf", headers=_staff(receiving)
    )
    assert document.status_code == 200 and hashlib.sha256(document.content).hexdigest() == event.pdf_sha256
    # Another school cannot read it, and is answered exactly as for a school that does not exist.
    other = http_client.get(f"{stack['sync']}/schools/{receiving}/sync/incoming", headers=_staff("s-khac"))
    unknown = http_client.get(
        f"{stack['sync']}/schools/truong-khong-co/sync/incoming", headers=_staff("s-khac")
    )
    assert other.status_code == unknown.status_code == 404 and other.json() == unknown.json()
    foreign_pdf = http_client.get(
        f"{stack['sync']}/schools/{receiving}/sync/incoming/{item['id']}/pdf", headers=_staff("s-khac")
    )
    assert (foreign_pdf.status_code, foreign_pdf.json()) == (404, unknown.json())
    # At the school itself, the transferred-in records are the leadership's and staff's: no teacher, no operator.
    for role in ("homeroom", "teacher"):
        refused = http_client.get(
            f"{stack['sync']}/schools/{receiving}/sync/incoming/{item['id']}/pdf",
            headers=_staff(receiving, role),
        )
        assert refused.status_code == 403, (role, refused.text)
    operator = http_client.get(
        f"{stack['sync']}/schools/{receiving}/sync/incoming", headers=_staff(None, "operator")
    )
    assert (operator.status_code, operator.json()) == (404, unknown.json())


def test_the_transferred_student_s_one_lookup_code_opens_both_schools_years_each_school_s_own(
    stack, amqp_uri, tmp_path
):
    sent = _accepted_record(stack, amqp_uri)
    code = sent.lookup_code
    request = _ask(stack, SCHOOL[0], code).json()
    approve = f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests/{request['id']}/approve"
    assert http_client.post(approve, headers=_staff()).status_code == 200
    # The receiving school's next year, sealed by it in its own học bạ (its own id), under the handed-over code: as
    # its transcript service builds it after the handover (tests/integration/transcript/test_transcript_tenancy.py).
    receiving = (RECEIVING, "Trường THCS Tiếp Nhận")
    ((continued, _, _),) = later = _sealed(
        1, school=receiving, school_year="2027-2028", grade=9, class_name="9A1", lookup_code=code
    )
    _publish(stack, amqp_uri, later)
    wait_for(
        lambda: (
            _rows(stack, [continued.year_record_id]).get(continued.year_record_id, {}).get("status")
            == "accepted"
        ),
        timeout=90,
        what="the receiving school's record accepted",
    )

    # The portal: one code, both schools' years, each saying its school.
    page = http_client.get(f"{stack['gateway'].url}/hocba/{code}")
    assert page.status_code == 200
    years = page.text.split('<section class="card year"')[1:]
    assert [(SCHOOL_YEAR in y, "2027-2028" in y) for y in years] == [(True, False), (False, True)]
    assert SCHOOL[1] in years[0] and receiving[1] not in years[0]
    assert receiving[1] in years[1] and SCHOOL[1] not in years[1]

    # Each school's API lists and reads its own records; the sending school nothing of the receiving school's.
    gateway = stack["gateway"]
    with gateway.client(SCHOOL[0]) as a, gateway.client(RECEIVING) as b, gateway.client("s-khac") as other:
        own_a = a.get("/api/v1/records", params={"transcript_id": sent.transcript_id}).json()["items"]
        own_b = b.get("/api/v1/records", params={"transcript_id": continued.transcript_id}).json()["items"]
        (b_row,) = own_b
        a_sees_b = a.get("/api/v1/records", params={"transcript_id": continued.transcript_id}).json()["items"]
        a_reads_b = a.get(f"/api/v1/records/{b_row['id']}/pdf")
        stranger = [other.get(f"/api/v1/records/{row['id']}/pdf") for row in (own_a[0], b_row)] + [
            other.get("/api/v1/records", params={"transcript_id": t})
            for t in (sent.transcript_id, continued.transcript_id)
        ]
        pdfs = {
            "a.pdf": a.get(f"/api/v1/records/{own_a[0]['id']}/pdf"),
            "b.pdf": b.get(f"/api/v1/records/{b_row['id']}/pdf"),
        }
    assert [(r["school_id"], r["access"], r["lookup_code"]) for r in own_a] == [(SCHOOL[0], "owner", code)]
    assert (b_row["school_id"], b_row["access"], b_row["lookup_code"]) == (RECEIVING, "owner", code)
    assert a_sees_b == []
    assert (a_reads_b.status_code, a_reads_b.json()["reason"]) == (404, "record_not_found")
    assert [r.status_code for r in stranger[:2]] == [404, 404]
    assert [r.json()["items"] for r in stranger[2:]] == [[], []]

    # `hocba verify` passes on each: each school signed and sealed what it assessed.
    for name, response in pdfs.items():
        assert response.status_code == 200, name
        (tmp_path / name).write_bytes(response.content)
        verified = CliRunner().invoke(cli_app, ["verify", str(tmp_path / name)])
        assert verified.exit_code == 0, (name, verified.output)

    # The code now opens the receiving school's học bạ too: a next school asks it there; at a school holding no
    # record of it, it still reads as an unknown code.
    def ask(to_school: str, from_school: str, lookup_code: str) -> httpx.Response:
        return http_client.post(
            f"{stack['sync']}/schools/{to_school}/sync/transfer-requests",
            json={"from_school": from_school, "lookup_code": lookup_code},
            headers=_staff(to_school, "staff"),
        )

    assert ask("s-truong-thu-ba", RECEIVING, code).status_code == 201
    elsewhere, unknown = (
        ask("s-truong-thu-ba", "s-khac", code),
        ask("s-truong-thu-ba", "s-khac", uuid.uuid4().hex),
    )
    assert (elsewhere.status_code, elsewhere.json()) == (404, unknown.json())


def test_a_refused_transfer_hands_nothing_over(stack, amqp_uri):
    event = _accepted_record(stack, amqp_uri)
    request = _ask(stack, SCHOOL[0], event.lookup_code).json()
    refuse = f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests/{request['id']}/refuse"
    assert http_client.post(refuse, json={"reason": "x"}, headers=_staff()).status_code == 422
    staff = http_client.post(refuse, json={"reason": "Nhân viên từ chối"}, headers=_staff(SCHOOL[0], "staff"))
    assert staff.status_code == 403  # the principal decides
    refused = http_client.post(
        refuse, json={"reason": "Học sinh chưa làm thủ tục chuyển đi"}, headers=_staff()
    )
    assert refused.status_code == 200, refused.text
    assert (
        refused.json()["status"] == "refused"
        and refused.json()["reason"] == "Học sinh chưa làm thủ tục chuyển đi"
        and refused.json()["decided_at"]
    )
    late = http_client.post(
        f"{stack['sync']}/schools/{SCHOOL[0]}/sync/transfer-requests/{request['id']}/approve",
        headers=_staff(),
    )
    assert late.status_code == 409 and "đã được xử lý (đã từ chối)" in late.json()["detail"]
    assert not _handed_over(stack, event.transcript_id)
    incoming = http_client.get(
        f"{stack['sync']}/schools/{RECEIVING}/sync/incoming", headers=_staff(RECEIVING)
    ).json()
    assert event.transcript_id not in {i["transcript_id"] for i in incoming}
    sent = http_client.get(
        f"{stack['sync']}/schools/{RECEIVING}/sync/transfer-requests", headers=_staff(RECEIVING)
    ).json()
    (mine,) = [r for r in sent["sent"] if r["id"] == request["id"]]
    assert mine["status"] == "refused" and "transcript_id" not in mine
    assert {(a, s) for a, s, _, _ in _audited(stack, request["id"])} == {
        ("transfer.request", SCHOOL[0]),
        ("transfer.request", RECEIVING),
        ("transfer.refuse", SCHOOL[0]),
        ("transfer.refuse", RECEIVING),
    }
    # Refused, the receiving school may ask again: a new request, waiting again.
    again = _ask(stack, SCHOOL[0], event.lookup_code)
    assert again.status_code == 201 and again.json()["id"] != request["id"]


def test_reconciliation_repairs_a_record_the_gateway_holds_but_we_think_pending(stack, amqp_uri):
    """What an answer lost after the commit leaves behind, when no retry comes to replay it."""
    gateway = stack["gateway"]
    ((event, pdf, xml),) = _sealed(1)
    with stack["sync_db"].begin() as conn:
        conn.execute(
            submissions.insert().values(
                year_record_id=event.year_record_id,
                school_id=SCHOOL[0],
                class_id="8a1",
                student_id=event.student_id,
                transcript_id=event.transcript_id,
                school_year=SCHOOL_YEAR,
                grade=8,
                version=1,
                assessment="regular",
                lookup_code=event.lookup_code,
                pdf_sha256=event.pdf_sha256,
                xml_sha256=event.record_xml_sha256,
                status="pending",
                operation="submit",
                idempotency_key=f"hocba:{event.year_record_id}:v1:submit",
                attempts=3,
                next_attempt_at=datetime(2099, 1, 1, tzinfo=UTC),  # the worker will not get to it
            )
        )
    with gateway.client(SCHOOL[0]) as school:
        direct = school.post(
            "/api/v1/records",
            json={
                "pdf": base64.b64encode(pdf).decode(),
                "xml": base64.b64encode(xml).decode(),
                "assessment": "regular",
            },
            headers={"Idempotency-Key": f"hocba:{event.year_record_id}:v1:submit"},
        )
    assert direct.status_code == 201, direct.text
    new_uow = lambda: SyncUnitOfWork(sessionmaker(stack["sync_db"]))  # noqa: E731
    wiring = wiring_of(stack["container"])
    repaired = operations.reconcile(new_uow, wiring.gateway, wiring.credentials.token_of)
    assert repaired.get("mark_accepted", 0) >= 1
    row = _rows(stack, [event.year_record_id])[event.year_record_id]
    assert row["status"] == "accepted" and row["gateway_record_id"] == direct.json()["id"]
    assert (
        operations.reconcile(new_uow, wiring.gateway, wiring.credentials.token_of).get("mark_accepted", 0)
        == 0
    )
