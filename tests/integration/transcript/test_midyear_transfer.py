"""A student who joins in term II (chuyển trường giữa năm học): term I from the previous school through the
handover, the year computed from both schools' terms, one lookup code, each term's school on the record, and each
school's people signing only what that school assessed (issue 17 item 5)."""

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contracts.sync import TranscriptTransferredV1
from sandbox.issuer import mint_token
from sandbox.sample_school import SCORED, build, load_via_api
from services.gradebook.store.tables import handed_over_terms, inbox
from services.runtime import http_client
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from services.signing.verifier.page import page_disagreements
from services.signing.verifier.record import parse_record
from services.transcript.documents import pdf_form, xml_package
from tests.factories import digitised_year
from tests.helpers import publish_event, wait_for
from tests.integration.gradebook.support import Client, enter_chosen_year, load_school, term_entry
from tests.integration.transcript.test_assembly import records_of
from tests.integration.transcript.test_documents import pdftotext
from tests.integration.transcript.test_transcript_tenancy import _hand_over, digitise

pytestmark = pytest.mark.integration

FROM_NAME = "Trường THCS Chu Văn An"  # the sending school, as its học bạ (digitised_year) names it
NS = {"h": xml_package.NS}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_a_student_who_joins_in_term_ii_gets_a_year_from_both_schools_under_one_lookup_code(stack, amqp_uri):
    gradebook, transcript, engine = stack
    sample = build(f"thcs-b-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3)
    receiver, class_id = sample.school_id, sample.classes[0]["class_id"]
    moved, *others = sample.students_of(class_id)
    moved_id, other_ids = moved["student_id"], [s["student_id"] for s in others]

    # The sending school's học bạ (its grade 7), handed over to the receiving school after term I.
    sender = f"thcs-a-{uuid.uuid4().hex[:6]}"
    sent = digitise(transcript, sender, f"hs-a-{uuid.uuid4().hex[:6]}", "2024-2025", 7)
    assert sent.status_code == 201, sent.text
    lookup = sent.json()["lookup_code"]
    _hand_over(transcript, engine, amqp_uri, sender, receiver)

    # The receiving school enrols the student under its own id, known by the MOET code the handover names.
    moved["moet_code"] = digitised_year("2024-2025", 7, "")["student"]["moet_code"]
    client = Client(gradebook, receiver)
    load_school(client, sample)
    enter_chosen_year(
        client,
        sample,
        class_id,
        {
            sid: {code: {t: term_entry(code, p, "8") for t in ("hk1", "hk2")} for code, p in sample.subjects}
            for sid in other_ids
        },
        {sid: {t: {"conduct": "Tốt", "absences": 0} for t in ("hk1", "hk2")} for sid in other_ids},
    )
    # The student studies term II here only.
    for code, periods in sample.subjects:
        with client.as_(sample.teacher_of(class_id, code), "teacher") as t:
            t.put(
                f"/classes/{class_id}/subjects/{code}/terms/hk2/marks",
                json={"entries": [{"student_id": moved_id, **term_entry(code, periods, "8")}]},
            ).raise_for_status()
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        h.put(
            f"/classes/{class_id}/terms/hk2/homeroom",
            json={"entries": [{"student_id": moved_id, "conduct": "Tốt", "absences": 1}]},
        ).raise_for_status()
    with client.as_(sample.principal_id, "principal") as p:
        p.post(f"/classes/{class_id}/terms/hk1/lock").raise_for_status()
        # Without term I there is no year: the year's lock names the student.
        refused = p.post(f"/classes/{class_id}/terms/hk2/lock")
    assert refused.status_code == 409 and moved["full_name"] in refused.json()["detail"], refused.text
    with client.as_("van-thu", "staff") as staff:
        assert staff.get(f"/classes/{class_id}/students/{moved_id}/results").json()["year"] == {}

    # The school office records term I from the handed-over record.
    path = f"/classes/{class_id}/students/{moved_id}/carried-terms/hk1"
    body = {
        "from_school_id": sender,
        "from_school_name": FROM_NAME,
        "subjects": {code: ("6.9" if code in SCORED else "Đ") for code, _ in sample.subjects},
        "conduct": "Khá",
        "absences": 2,
        "source": "Học bạ do Sở chuyển ngày 12/01/2026, hồ sơ chuyển trường số 15/CT",
    }
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        teacher = h.put(path, json=body)
    assert teacher.status_code == 403, (
        teacher.text
    )  # teachers assess; they do not transcribe another school's
    with client.as_("vt-khac", "staff", "principal", school="thcs-khac") as foreign_staff:
        foreign = foreign_staff.put(path, json=body)
        unknown = foreign_staff.put(path.replace(class_id, "lop-khong-co"), json=body)
    assert foreign.status_code == unknown.status_code == 404 and foreign.json() == unknown.json()
    with client.as_("van-thu", "staff") as staff:
        recorded = staff.put(path, json=body)
    assert recorded.status_code == 200, recorded.text
    answer = recorded.json()
    # TT22 art. 9: (6.9 + 2·8.0) / 3 = 7.63… → 7.6; art. 8: term II Tốt and term I Khá → Tốt.
    assert answer["averages"]["toan.hk1"] == "6.9" and answer["averages"]["toan.year"] == "7.6"
    assert answer["year"]["conduct"] == "Tốt" and answer["year"]["learning_result"] == "Khá"
    assert answer["year"]["absences"] == "3"
    why = answer["explanations"]
    assert f"do {FROM_NAME} đánh giá" in why["toan.hk1"]
    assert (
        f"học kỳ I do {FROM_NAME} đánh giá" in why["toan.year"]
        and "học kỳ II do trường hiện tại" in why["toan.year"]
    )

    with client.as_(sample.principal_id, "principal") as p:
        p.post(f"/classes/{class_id}/terms/hk2/lock").raise_for_status()  # no gap any more
    records = wait_for(
        lambda: (r := records_of(engine, receiver)) and len(r) == 3 and r, timeout=60, what="3 year records"
    )
    (record,) = [r for r in records if r["student_id"] == moved_id]
    assert record["lookup_code"] == lookup  # one học bạ, one lookup code, across both schools
    assert all(r["lookup_code"] != lookup for r in records if r["student_id"] != moved_id)

    staff_b = client.headers("van-thu", "staff")
    xml = http_client.get(f"{transcript}/records/{record['id']}/xml", headers=staff_b).content
    root = xml_package.validate(xml)
    toan = root.find("h:Subjects/h:Subject[@code='toan']", NS)
    hk1, hk2 = (toan.find(f"h:Term[@term='{t}']", NS) for t in ("hk1", "hk2"))
    assert (hk1.get("assessedBy"), hk1.get("assessedByName"), hk1.findtext("h:Average", namespaces=NS)) == (
        sender,
        FROM_NAME,
        "6.9",
    )
    assert hk1.find("h:Regular", NS) is None  # the other school's result only, none of its assessments
    assert hk2.get("assessedBy") is None and toan.findtext("h:Year", namespaces=NS) == "7.6"
    periods = {p.get("period"): p for p in root.iterfind("h:Results/h:Period", NS)}
    assert (periods["hk1"].get("schoolId"), periods["hk1"].get("schoolName")) == (sender, FROM_NAME)
    assert periods["hk1"].findtext("h:Conduct", namespaces=NS) == "Khá"
    assert periods["hk2"].get("schoolId") == receiver
    # Each school signs only what it assessed: the teachers here cover term II and the year, never term I.
    covers = {
        step.get("role") + ":" + step.findtext("h:SignerId", namespaces=NS): [
            c.text for c in step.iterfind("h:Covers", NS)
        ]
        for step in root.iterfind("h:SignaturePlan/h:Step", NS)
    }
    assert covers[f"subject_teacher:{sample.teacher_of(class_id, 'toan')}"][:2] == ["toan:hk2", "toan:year"]
    teacher_covers = [c for key, cs in covers.items() if key.startswith("subject_teacher:") for c in cs]
    assert teacher_covers and all(c.endswith((":hk2", ":year")) for c in teacher_covers), teacher_covers
    assert covers[f"homeroom_teacher:{sample.homeroom_of(class_id)}"] == ["homeroom:hk2", "homeroom:year"]

    pdf = http_client.get(f"{transcript}/records/{record['id']}/pdf", headers=staff_b).content
    page = pdftotext(pdf)
    assert f"Học kỳ I (học tại {FROM_NAME}):" in _flat(page)
    assert _flat(pdf_form.carried_legend("hk1", FROM_NAME)) in _flat(page)
    assert f"Mã số tra cứu: {lookup}" in page
    assert page_disagreements(parse_record(xml), page) == []  # the verifier's page check reads it the same

    # A classmate's record names no other school and is signed row by row, as before.
    (classmate,) = [r for r in records if r["student_id"] == other_ids[0]]
    theirs = xml_package.validate(
        http_client.get(f"{transcript}/records/{classmate['id']}/xml", headers=staff_b).content
    )
    assert theirs.find("h:Subjects/h:Subject/h:Term[@assessedBy]", NS) is None
    assert theirs.find("h:Results/h:Period[@schoolId]", NS) is None
    assert "toan" in [c.text for c in theirs.iterfind("h:SignaturePlan/h:Step/h:Covers", NS)]

    # The sending school reads none of the receiving school's records: the answer to an unknown one.
    staff_a = client.headers(f"van-thu-{sender}", "staff", school=sender)
    for kind in ("xml", "pdf"):
        theirs_read = http_client.get(f"{transcript}/records/{record['id']}/{kind}", headers=staff_a)
        unknown_read = http_client.get(f"{transcript}/records/yr-khong-co/{kind}", headers=staff_a)
        assert theirs_read.status_code == unknown_read.status_code == 404
        assert theirs_read.json() == unknown_read.json()


def _enter(client, school, class_id: str, marks: dict, homeroom: dict) -> None:
    """Marks (student → subject → term → entry) and homeroom records (student → term → record), only what is given."""
    for term in ("hk1", "hk2"):
        for code, _ in school.subjects:
            entries = [
                {"student_id": sid, **m[code][term]} for sid, m in marks.items() if term in m.get(code, {})
            ]
            if entries:
                with client.as_(school.teacher_of(class_id, code), "teacher") as t:
                    t.put(
                        f"/classes/{class_id}/subjects/{code}/terms/{term}/marks", json={"entries": entries}
                    ).raise_for_status()
        records = [{"student_id": sid, **r[term]} for sid, r in homeroom.items() if term in r]
        if records:
            with client.as_(school.homeroom_of(class_id), "teacher", "homeroom") as h:
                h.put(
                    f"/classes/{class_id}/terms/{term}/homeroom", json={"entries": records}
                ).raise_for_status()


def _handed_over(engine, transcript_id: str) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(handed_over_terms).where(handed_over_terms.c.transcript_id == transcript_id)
            ).mappings()
        ]


def _consumed(engine, event_id) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(inbox.c.event_id).where(inbox.c.event_id == event_id)).first() is not None


def test_the_sending_school_s_locked_term_i_arrives_with_the_handover_and_completes_the_year(
    stack, amqp_uri, service_databases
):
    """Both schools on the platform: the sending principal's approval (sync's event) hands the student's locked term
    I over from the sending school's gradebook; the receiving school's year needs no typing of it."""
    gradebook, transcript, engine = stack
    grades = make_engine(service_databases["gradebook"])
    moet = digitised_year("2024-2025", 7, "")["student"]["moet_code"]
    sender, receiver = (
        build(f"thcs-{s}-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=2) for s in "ab"
    )
    a_class, b_class = sender.classes[0]["class_id"], receiver.classes[0]["class_id"]
    (a_moved, a_stays), (b_moved, b_other) = sender.students_of(a_class), receiver.students_of(b_class)
    a_moved["moet_code"] = b_moved["moet_code"] = moet  # one student, a row at each school
    for school, name in ((sender, FROM_NAME), (receiver, "Trường THCS Nguyễn Du")):
        load_via_api(
            gradebook,
            school,
            lambda user, roles, school_id: mint_token(
                get_settings(), user_id=user, roles=roles, school_id=school_id
            ),
            name,
        )
    a_client, b_client = Client(gradebook, sender.school_id), Client(gradebook, receiver.school_id)

    # Term I at the sending school, locked by its principal; the student's earlier year is its học bạ.
    _enter(
        a_client,
        sender,
        a_class,
        {
            sid: {code: {"hk1": term_entry(code, p, "6.9")} for code, p in sender.subjects}
            for sid in (a_moved["student_id"], a_stays["student_id"])
        },
        {a_moved["student_id"]: {"hk1": {"conduct": "Khá", "absences": 2}}},
    )
    with a_client.as_(sender.principal_id, "principal") as p:
        p.post(f"/classes/{a_class}/terms/hk1/lock").raise_for_status()
    sent = digitise(transcript, sender.school_id, a_moved["student_id"], "2024-2025", 7)
    assert sent.status_code == 201, sent.text

    record = _hand_over(
        transcript, engine, amqp_uri, sender.school_id, receiver.school_id, student_id=a_moved["student_id"]
    )
    (handed,) = wait_for(lambda: _handed_over(grades, record["transcript_id"]), what="term I handed over")
    assert (handed["school_id"], handed["from_school_id"], handed["conduct"]) == (
        receiver.school_id,
        sender.school_id,
        "Khá",
    )
    assert handed["subjects"]["toan"] == "6.9" and handed["subjects"]["gdtc"] == "Đ"

    # The receiving school: term I for its classmate, term II for both; nobody types the moved student's term I.
    others = {
        b_other["student_id"]: {
            c: {t: term_entry(c, p, "8") for t in ("hk1", "hk2")} for c, p in receiver.subjects
        }
    }
    others[b_moved["student_id"]] = {c: {"hk2": term_entry(c, p, "8")} for c, p in receiver.subjects}
    _enter(
        b_client,
        receiver,
        b_class,
        others,
        {
            b_other["student_id"]: {t: {"conduct": "Tốt"} for t in ("hk1", "hk2")},
            b_moved["student_id"]: {"hk2": {"conduct": "Tốt", "absences": 1}},
        },
    )
    with b_client.as_("van-thu", "staff") as staff:
        results = staff.get(f"/classes/{b_class}/students/{b_moved['student_id']}/results").json()
    assert results["averages"]["toan.hk1"] == "6.9" and results["averages"]["toan.year"] == "7.6"
    assert (
        results["year"]["conduct"] == "Tốt"
        and f"học kỳ I do {FROM_NAME} đánh giá" in results["explanations"]["toan.year"]
    )
    with b_client.as_(receiver.principal_id, "principal") as p:
        p.post(f"/classes/{b_class}/terms/hk1/lock").raise_for_status()
    # An event naming another school's student (whose term I is locked there) as the sending school's hands nothing
    # over: the student is looked up at the sending school only (ids never pick the tenant).
    stray = publish_event(
        amqp_uri,
        TranscriptTransferredV1(
            transcript_id="hb-la",
            from_school=sender.school_id,
            to_school=f"thcs-c-{uuid.uuid4().hex[:6]}",
            transferred_at=datetime.now(UTC),
            student_id=b_other["student_id"],
        ),
        "sync",
    )
    wait_for(lambda: _consumed(grades, stray.id), what="the stray event consumed")
    assert _handed_over(grades, "hb-la") == []
    with b_client.as_(receiver.principal_id, "principal") as p:
        p.post(f"/classes/{b_class}/terms/hk2/lock").raise_for_status()
    records = wait_for(
        lambda: (r := records_of(engine, receiver.school_id)) and len(r) == 2 and r,
        timeout=60,
        what="B's records",
    )
    (moved_record,) = [r for r in records if r["student_id"] == b_moved["student_id"]]
    assert moved_record["lookup_code"] == sent.json()["lookup_code"]
    root = xml_package.validate(
        http_client.get(
            f"{transcript}/records/{moved_record['id']}/xml", headers=b_client.headers("van-thu", "staff")
        ).content
    )
    hk1 = root.find("h:Subjects/h:Subject[@code='toan']/h:Term[@term='hk1']", NS)
    assert (hk1.get("assessedBy"), hk1.findtext("h:Average", namespaces=NS)) == (sender.school_id, "6.9")
    assert root.find("h:Results/h:Period[@period='hk1']", NS).get("schoolName") == FROM_NAME
    grades.dispose()
