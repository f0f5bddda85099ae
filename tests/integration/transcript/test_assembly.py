"""The year's lock becomes one học bạ year record per student: once, versioned on amendment, dead-lettered if broken."""

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import select

from contracts.envelope import Envelope
from contracts.gradebook import ClassSnapshot, StudentRecord, SubjectResult, SubjectTeacher, TermLockedV1
from sandbox.sample_school import build
from services.gradebook.store.tables import outbox as gradebook_outbox
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.handlers import HEADER_EXCEPTION, HEADER_MESSAGE
from services.transcript.documents import pdf_form, xml_package
from services.transcript.service import TranscriptService
from services.transcript.store.tables import inbox, transcripts, year_records
from tests.factories import term_locked
from tests.helpers import get_one, publish_event, queue_depth, wait_for
from tests.integration.gradebook.support import Client, approved_amendment, enter_year_and_lock, load_school
from tests.integration.transcript.test_documents import pdftotext

pytestmark = pytest.mark.integration


def records_of(engine, school_id):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(year_records, transcripts.c.lookup_code, transcripts.c.student_id)
                .join(transcripts)
                .where(year_records.c.school_id == school_id)
                .order_by(year_records.c.created_at)
            ).mappings()
        ]


def test_the_year_lock_assembles_one_record_per_student_once_then_a_new_version_on_amendment(
    stack, amqp_uri, service_databases
):
    gradebook, transcript, engine = stack
    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=5)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    enter_year_and_lock(
        client, sample, class_id, sample.principal_id
    )  # on the staff list: the form prints it
    records = wait_for(
        lambda: (r := records_of(engine, sample.school_id)) and len(r) == 5 and r,
        timeout=60,
        what="5 year records",
    )
    codes = {r["lookup_code"] for r in records}
    assert len(codes) == 5 and all(len(c) == 32 and int(c, 16) >= 0 for c in codes)
    assert {r["version"] for r in records} == {1} and {r["status"] for r in records} == {"assembled"}

    # Staff read the record and download its documents; another school cannot.
    staff = client.headers("van-thu", "staff")
    listed = http_client.get(f"{transcript}/schools/{sample.school_id}/records", headers=staff).json()[
        "records"
    ]
    assert len(listed) == 5 and listed[0]["signature_plan"][-1]["role"] == "school_seal"
    principal = listed[0]["signature_plan"][-2]
    assert principal["role"] == "principal" and principal["signer_id"] == sample.principal_id
    xml = http_client.get(f"{transcript}/records/{records[0]['id']}/xml", headers=staff)
    assert xml.status_code == 200
    root = xml_package.validate(xml.content)
    ns = {"h": xml_package.NS}
    assert root.findtext("h:SignaturePlan/h:Step[@role='principal']/h:SignerName", namespaces=ns) == next(
        t["full_name"] for t in sample.teachers if t["teacher_id"] == sample.principal_id
    )
    assert (
        root.findtext(f"{{{xml_package.NS}}}Identity/{{{xml_package.NS}}}LookupCode")
        == records[0]["lookup_code"]
    )
    owner = next(s for s in sample.students if s["student_id"] == records[0]["student_id"])
    assert (
        root.findtext(f"{{{xml_package.NS}}}Student/{{{xml_package.NS}}}PersonalId") == owner["personal_id"]
    )
    # The student's details from the roster, unsealed for the form, and the effective date of the record's path.
    details = {
        tag: root.findtext(f"h:Student/h:{tag}", namespaces=ns)
        for tag in ("Gender", "BirthDate", "BirthPlace", "Ethnicity", "RegisterNumber")
    }
    assert details == {
        "Gender": owner["gender"],
        "BirthDate": owner["birth_date"],
        "BirthPlace": owner["birth_place"],
        "Ethnicity": owner["ethnicity"],
        "RegisterNumber": owner["register_number"],
    }
    summer = any(
        o in (root.findtext("h:Results/h:Promotion", namespaces=ns) or "") for o in ("kiểm tra lại", "hè")
    )
    effective = root.findtext("h:Identity/h:EffectiveDate", namespaces=ns)
    assert effective == ("2026-08-15" if summer else "2026-06-30")
    pdf = http_client.get(f"{transcript}/records/{records[0]['id']}/pdf", headers=staff)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdftotext(pdf.content)
    birth = "/".join(reversed(owner["birth_date"].split("-")))
    for printed in (
        f"Ngày sinh: {birth}",
        f"Số đăng bộ: {owner['register_number']}",
        f"Nơi sinh: {owner['birth_place']}",
    ):
        assert printed in text, printed
    assert f"Ngày hiệu lực: {'/'.join(reversed(effective.split('-')))}" in text
    other = client.headers("vt-khac", "staff", school="thcs-khac")
    foreign = http_client.get(f"{transcript}/records/{records[0]['id']}/pdf", headers=other)
    unknown = http_client.get(f"{transcript}/records/khong-co/pdf", headers=other)
    assert foreign.status_code == unknown.status_code == 404  # another school's record looks unknown
    assert foreign.json() == unknown.json()
    assert (
        http_client.get(f"{transcript}/schools/{sample.school_id}/records", headers=other).status_code == 404
    )
    # A teacher downloads the records of the classes they teach or lead, not another class's.
    own_teacher = client.headers(sample.teacher_of(class_id, "toan"), "teacher")
    assert (
        http_client.get(f"{transcript}/records/{records[0]['id']}/pdf", headers=own_teacher).status_code
        == 200
    )
    own_homeroom = client.headers(sample.homeroom_of(class_id), "teacher", "homeroom")
    assert (
        http_client.get(f"{transcript}/records/{records[0]['id']}/xml", headers=own_homeroom).status_code
        == 200
    )
    for stranger in (("gv-lop-khac", "teacher"), ("gvcn-lop-khac", "teacher", "homeroom")):
        refused = http_client.get(
            f"{transcript}/records/{records[0]['id']}/pdf", headers=client.headers(*stranger)
        )
        assert refused.status_code == 403, (stranger, refused.text)

    # The same lock event again (a redelivery), and the same content under a new event id (a replay): nothing new.
    gradebook_db = make_engine(service_databases["gradebook"])
    with gradebook_db.connect() as conn:
        body = conn.execute(
            select(gradebook_outbox.c.body).where(
                gradebook_outbox.c.ce_type == "vn.hocba.gradebook.term.locked.v1",
                gradebook_outbox.c.body["data"]["class_id"].astext == class_id,
                gradebook_outbox.c.body["data"]["term"].astext == "hk2",
            )
        ).scalar_one()
    gradebook_db.dispose()
    exchange = Exchange("gradebook.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        producer = Producer(conn.default_channel)
        producer.publish(body, exchange=exchange, routing_key="gradebook.term.locked.v1")
        producer.publish(
            {**body, "id": str(uuid.uuid4())}, exchange=exchange, routing_key="gradebook.term.locked.v1"
        )
    queue = next(s.queue for s in subscriptions_of(TranscriptService) if s.event_model is TermLockedV1)
    wait_for(lambda: queue_depth(amqp_uri, queue) == 0, what="both duplicates consumed")
    threading.Event().wait(1)
    again = records_of(engine, sample.school_id)
    assert len(again) == 5 and {r["lookup_code"] for r in again} == codes

    # An approved amendment to term II: version 2 supersedes version 1, under the same lookup code.
    student = sample.students_of(class_id)[0]["student_id"]
    approved_amendment(client, sample, class_id, student)
    mine = wait_for(
        lambda: [r for r in records_of(engine, sample.school_id) if r["version"] == 2],
        timeout=60,
        what="version 2",
    )
    (v2,) = mine
    history = [r for r in records_of(engine, sample.school_id) if r["transcript_id"] == v2["transcript_id"]]
    assert [(r["version"], r["status"]) for r in history] == [(1, "superseded"), (2, "assembled")]
    assert v2["supersedes"] == history[0]["id"] and v2["lookup_code"] == history[0]["lookup_code"]


def test_a_malformed_snapshot_is_dead_lettered_with_the_reason(stack, amqp_uri):
    snapshot = ClassSnapshot(
        students=[
            StudentRecord(
                student_id="st-x",
                full_name="Lý Thị Mai",
                subjects=[SubjectResult(subject_code="vat_li", year="8.0")],
            )
        ],
        subjects=[
            SubjectTeacher(subject_code="toan", subject_name="Toán", teacher_id="gv", teacher_name="Gv")
        ],
        content_hash="0" * 64,
    )
    publish_event(
        amqp_uri,
        term_locked(snapshot, school_id="s-bad", class_id="c-bad", locked_by="ht"),
        "gradebook",
    )
    dlq = next(
        s.dead_letter_queue for s in subscriptions_of(TranscriptService) if s.event_model is TermLockedV1
    )
    wait_for(lambda: queue_depth(amqp_uri, dlq) >= 1, what="the malformed snapshot in the DLQ")
    message = get_one(amqp_uri, dlq)
    assert message.headers[HEADER_EXCEPTION].endswith("MalformedSnapshot")
    assert "vat_li" in message.headers[HEADER_MESSAGE]
    assert json.loads(message.body)["data"]["class_id"] == "c-bad"


def test_a_record_moves_forward_to_sealed_reported_and_effective_whatever_order_the_news_arrives_in(
    stack, amqp_uri
):
    from datetime import date

    from contracts.signing import TranscriptSealedV1
    from contracts.sync import SyncRecordChangedV1

    _, _, engine = stack
    school_id = wait_for(
        lambda: next(
            (
                r["school_id"]
                for r in _any_records(engine)
                if r["status"] == "assembled" and r["version"] == 1
            ),
            None,
        ),
        what="an assembled record",
    )
    record = next(r for r in records_of(engine, school_id) if r["status"] == "assembled")

    def changed(status: str) -> SyncRecordChangedV1:
        return SyncRecordChangedV1(
            school_id=school_id,
            class_id="c",
            transcript_id=record["transcript_id"],
            year_record_id=record["id"],
            version=1,
            status=status,
            cutoff=date(2026, 6, 30),
            occurred_at=datetime.now(UTC),
        )

    sealed = TranscriptSealedV1(
        school_id=school_id,
        class_id="c",
        student_id=record["student_id"],
        transcript_id=record["transcript_id"],
        year_record_id=record["id"],
        school_year=record["school_year"],
        grade=8,
        version=1,
        lookup_code=record["lookup_code"],
        pdf_document_id="a" * 64,
        pdf_sha256="a" * 64,
        record_xml_sha256="b" * 64,
        xml_document_id="c" * 64,
        xml_sha256="c" * 64,
        signatures=5,
        sealed_at=datetime.now(UTC),
    )
    with Connection(amqp_uri) as conn:
        producer = Producer(conn.default_channel)
        # The province's acceptance overtakes the seal's announcement: the record must not fall back to "sealed".
        producer.publish(
            Envelope.wrap(changed("accepted"), source_service="sync").wire(),
            exchange=Exchange("sync.events", type="topic", durable=True),
            routing_key=SyncRecordChangedV1.routing_key(),
        )

        def status_of() -> str:
            return next(r["status"] for r in records_of(engine, school_id) if r["id"] == record["id"])

        wait_for(lambda: status_of() == "reported", what="reported")
        producer.publish(
            Envelope.wrap(sealed, source_service="signing").wire(),
            exchange=Exchange("signing.events", type="topic", durable=True),
            routing_key=TranscriptSealedV1.routing_key(),
        )
        queue = next(
            s.queue for s in subscriptions_of(TranscriptService) if s.event_model is TranscriptSealedV1
        )
        wait_for(lambda: queue_depth(amqp_uri, queue) == 0, what="the seal's news consumed")
        threading.Event().wait(0.5)
        assert status_of() == "reported"
        for status in ("rejected", "effective"):  # a rejection is the sync service's business: ignored here
            producer.publish(
                Envelope.wrap(changed(status), source_service="sync").wire(),
                exchange=Exchange("sync.events", type="topic", durable=True),
                routing_key=SyncRecordChangedV1.routing_key(),
            )
        wait_for(lambda: status_of() == "effective", what="effective")
    # One inbox consumer per status, under the names stored since the first release (renaming one would take its
    # events a second time); the ignored rejection left unclaimed.
    with engine.connect() as conn:
        consumers = conn.execute(
            select(inbox.c.consumer).where(inbox.c.consumer.like("transcript.progress%"))
        )
        assert sorted(consumers.scalars()) == [
            "transcript.progress.effective",
            "transcript.progress.reported",
            "transcript.progress.sealed",
        ]


def _any_records(engine):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(year_records)).mappings()]


def test_a_transferred_student_s_next_record_links_to_the_earlier_school_s_last_record(stack, amqp_uri):
    from dataclasses import replace as with_changes

    from contracts.sync import TranscriptTransferredV1
    from tests.integration.signing.test_workflow import _lock_a_class

    gradebook, _, engine = stack
    samples: list = []
    sending, _ = _lock_a_class(gradebook, 2, samples)
    earlier = wait_for(
        lambda: (r := records_of(engine, sending)) and len(r) == 2 and r, timeout=60, what="records"
    )
    mover = earlier[0]
    receiving_id = f"thcs-nhan-{uuid.uuid4().hex[:6]}"  # sample ids end in a fresh suffix: classes differ too
    moet = next(s["moet_code"] for s in samples[0].students if s["student_id"] == mover["student_id"])
    publish_event(
        amqp_uri,
        TranscriptTransferredV1(
            transcript_id=mover["transcript_id"],
            from_school=sending,
            to_school=receiving_id,
            transferred_at=datetime.now(UTC),
        ),
        "sync",
    )
    queue = next(
        s.queue for s in subscriptions_of(TranscriptService) if s.event_model is TranscriptTransferredV1
    )
    wait_for(lambda: queue_depth(amqp_uri, queue) == 0, what="the handover consumed")

    # The next school year at the receiving school: the same student (same MOET code) under that school's own id.
    receiving = build(receiving_id, classes=1, students_per_class=2)
    receiving = with_changes(receiving, year="2026-2027")
    receiving.students[0]["moet_code"] = moet
    _lock_a_class(gradebook, 2, sample=receiving)
    later = wait_for(
        lambda: (r := records_of(engine, receiving.school_id)) and len(r) == 2 and r,
        timeout=60,
        what="new records",
    )
    linked = next(r for r in later if r["student_id"] == receiving.students[0]["student_id"])
    other = next(r for r in later if r["student_id"] != receiving.students[0]["student_id"])
    root = xml_package.validate(_xml(engine, linked["xml_sha256"]))
    ns = f"{{{xml_package.NS}}}"
    assert root.findtext(f"{ns}Identity/{ns}PreviousRecordSha256") == mover["xml_sha256"]
    assert (
        xml_package.validate(_xml(engine, other["xml_sha256"])).find(f"{ns}Identity/{ns}PreviousRecordSha256")
        is None
    )


def _xml(engine, sha256: str) -> bytes:
    from services.transcript.store.tables import documents

    with engine.connect() as conn:
        return bytes(
            conn.execute(select(documents.c.content).where(documents.c.sha256 == sha256)).scalar_one()
        )


def test_the_summer_lock_gives_a_new_version_of_the_re_tested_students_record_only(stack, service_databases):
    """TT22 art. 13–14 end to end: the year's lock assembles every record; after the re-tests the principal's summer
    lock republishes the year, and only the re-tested student's record gets a version 2, carrying the re-test
    beside the year result, on the supplementary path (effective 15 August)."""
    from tests.integration.gradebook.support import enter_chosen_year, term_entry

    gradebook, _, engine = stack
    sample = build(f"he-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=2)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    retested, passed = (s["student_id"] for s in sample.students_of(class_id))
    weak = {"toan": "3", "ngu_van": "4"}
    marks = {
        sid: {
            code: {
                term: term_entry(code, periods, weak.get(code, "8") if sid == retested else "8")
                for term in ("hk1", "hk2")
            }
            for code, periods in sample.subjects
        }
        for sid in (retested, passed)
    }
    homeroom = {sid: {t: {"conduct": "Tốt", "absences": 0} for t in ("hk1", "hk2")} for sid in marks}
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    with client.as_("hieu-truong", "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
    wait_for(lambda: len(records_of(engine, sample.school_id)) == 2, timeout=60, what="2 year records")
    for code, result in (("toan", 6.5), ("ngu_van", 5)):
        with client.as_(sample.teacher_of(class_id, code), "teacher") as t:
            t.put(
                f"/classes/{class_id}/subjects/{code}/summer/retest",
                json={"entries": [{"student_id": retested, "result": result}]},
            ).raise_for_status()
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/classes/{class_id}/summer/lock").raise_for_status()
    (v2,) = wait_for(
        lambda: [r for r in records_of(engine, sample.school_id) if r["version"] == 2],
        timeout=60,
        what="the re-tested student's version 2",
    )
    assert v2["student_id"] == retested
    records = records_of(engine, sample.school_id)
    assert sorted((r["student_id"] == retested, r["version"]) for r in records) == [
        (False, 1),
        (True, 1),
        (True, 2),
    ]
    staff = client.headers("van-thu", "staff")
    transcript = stack[1]
    xml = http_client.get(f"{transcript}/records/{v2['id']}/xml", headers=staff).content
    root = xml_package.validate(xml)
    ns = {"h": xml_package.NS}
    assert root.findtext("h:Identity/h:EffectiveDate", namespaces=ns) == "2026-08-15"
    # The form prints both (rules.md "After the year"): the year result stays, the re-test's follows it; the year's
    # results after the summer and the promotion decided again have their own lines.
    subjects = {s.get("code"): s for s in root.iterfind("h:Subjects/h:Subject", ns)}
    assert {code: subjects[code].findtext("h:YearAfterRetest", namespaces=ns) for code in weak} == {
        "toan": "6.5",
        "ngu_van": "5.0",
    }
    assert all(subjects[code].findtext("h:Year", namespaces=ns) for code in weak)
    summer = root.find("h:Results/h:Period[@period='summer']", ns)
    assert summer is not None and summer.findtext("h:LearningResult", namespaces=ns)
    assert root.findtext("h:Results/h:PromotionAfterSummer", namespaces=ns)
    pdf = http_client.get(f"{transcript}/records/{v2['id']}/pdf", headers=staff).content
    page = pdftotext(pdf)
    for code in weak:
        year, after = (
            subjects[code].findtext(f"h:{tag}", namespaces=ns) for tag in ("Year", "YearAfterRetest")
        )
        assert f"{year} / {after}".replace(".", ",") in page, (code, page)
    assert pdf_form.RETEST_LEGEND in " ".join(page.split())
    assert "Sau kiểm tra lại, rèn luyện hè:" in page and "Lên lớp sau kiểm tra lại, rèn luyện hè:" in page
    # The verifier's page check reads the re-test on the page too (a page without it would disagree).
    from services.signing.verifier.page import page_disagreements
    from services.signing.verifier.record import parse_record

    assert page_disagreements(parse_record(xml), page) == []
