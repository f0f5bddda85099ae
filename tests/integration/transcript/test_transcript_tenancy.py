"""Tenancy of the học bạ: a student id is the school's own, so naming another school's id reaches nothing of it."""

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from contracts.sync import TranscriptTransferredV1
from sandbox.issuer import mint_token
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from services.transcript.documents import xml_package
from services.transcript.service import TranscriptService
from services.transcript.store.tables import handovers, transcripts, year_records
from tests.factories import digitised_year, maths_class, term_locked
from tests.helpers import publish_event, purge, running, wait_for
from tests.integration.transcript.test_documents import pdftotext

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def transcript(amqp_uri, service_databases):
    for s in subscriptions_of(TranscriptService):
        purge(amqp_uri, s.queue)
        purge(amqp_uri, s.dead_letter_queue)
    engine = make_engine(service_databases["transcript"])
    with running(TranscriptService, amqp_uri) as container:
        yield container.http_url, engine
    engine.dispose()


def clerk(school_id: str) -> dict[str, str]:
    token = mint_token(get_settings(), user_id=f"van-thu-{school_id}", roles=["staff"], school_id=school_id)
    return {"Authorization": f"Bearer {token}"}


def digitise(
    url: str, school_id: str, student_id: str, school_year: str, grade: int, **student: str | None
) -> httpx.Response:
    """A digitised year of ``student_id`` (``student``: other fields of the student, e.g. ``moet_code=None``)."""
    body = digitised_year(school_year, grade, f"Học bạ giấy của {student_id}, {school_year}", student_id)
    body["student"].update(student)
    return http_client.post(
        f"{url}/schools/{school_id}/records/digitised", json=body, headers=clerk(school_id), timeout=60
    )


def holdings(engine, school_id: str) -> dict[str, list[str]]:
    """Everything of the school's học bạ: its rows, and every year record written into them by anyone."""
    with engine.connect() as conn:
        own = [
            dict(r)
            for r in conn.execute(select(transcripts).where(transcripts.c.school_id == school_id)).mappings()
        ]
        ids = [t["id"] for t in own]
        years = [
            dict(r)
            for r in conn.execute(
                select(year_records).where(year_records.c.transcript_id.in_(ids))
            ).mappings()
        ]
    return {
        "transcripts": sorted(json.dumps(t, default=str, sort_keys=True) for t in own),
        "year_records": sorted(json.dumps(y, default=str, sort_keys=True) for y in years),
    }


def shape(response: httpx.Response) -> dict:
    """What the caller can tell from an answer, less the ids a fresh record gets every time."""
    body = response.json()
    return {
        "status": response.status_code,
        "keys": sorted(body),
        "signature_plan": body.get("signature_plan"),
        "lookup_code": len(body.get("lookup_code", "")),
        "year_record_id": body.get("year_record_id", "")[:3],
    }


def test_another_school_s_student_id_on_the_digitised_route_answers_like_an_unknown_one(transcript):
    url, engine = transcript
    a, b = f"thcs-a-{uuid.uuid4().hex[:6]}", f"thcs-b-{uuid.uuid4().hex[:6]}"
    b_student, unknown = f"hs-b-{uuid.uuid4().hex[:6]}", f"hs-khong-co-{uuid.uuid4().hex[:6]}"

    first = digitise(url, b, b_student, "2023-2024", 6)
    assert first.status_code == 201, first.text
    b_code = first.json()["lookup_code"]
    b_before = holdings(engine, b)
    b_listed = http_client.get(f"{url}/schools/{b}/records", headers=clerk(b)).json()["records"]

    # The reproduction: school A posts B's student id for the next year. It gets a học bạ of its own, exactly as
    # for an id nobody uses: same status, same body, a lookup code that is not B's.
    taken = digitise(url, a, b_student, "2024-2025", 7)
    fresh = digitise(url, a, unknown, "2024-2025", 7)
    assert taken.status_code == fresh.status_code == 201, (taken.text, fresh.text)
    assert shape(taken) == shape(fresh)
    assert taken.json()["lookup_code"] not in (b_code, fresh.json()["lookup_code"])

    # The year B already recorded is no oracle: A gets 201 there too, into A's own học bạ (its own lookup code).
    taken_year = digitise(url, a, b_student, "2023-2024", 6)
    fresh_year = digitise(url, a, unknown, "2023-2024", 6)
    assert taken_year.status_code == fresh_year.status_code == 201, (taken_year.text, fresh_year.text)
    assert shape(taken_year) == shape(fresh_year)
    assert taken_year.json()["lookup_code"] == taken.json()["lookup_code"]
    assert fresh_year.json()["lookup_code"] == fresh.json()["lookup_code"]

    # A 409 speaks only of A's own học bạ, and reads the same for both ids.
    again_taken = digitise(url, a, b_student, "2024-2025", 7)
    again_fresh = digitise(url, a, unknown, "2024-2025", 7)
    assert again_taken.status_code == again_fresh.status_code == 409
    assert again_taken.json() == again_fresh.json()
    assert "trường khác" not in again_taken.text

    # Nothing of B's học bạ was returned or touched; A's list holds only A's own.
    assert holdings(engine, b) == b_before
    assert http_client.get(f"{url}/schools/{b}/records", headers=clerk(b)).json()["records"] == b_listed
    a_listed = http_client.get(f"{url}/schools/{a}/records", headers=clerk(a)).json()["records"]
    assert len(a_listed) == 4 and b_code not in {r["lookup_code"] for r in a_listed}
    assert not {r["transcript_id"] for r in a_listed} & {r["transcript_id"] for r in b_listed}
    by_student = http_client.get(
        f"{url}/schools/{a}/records", params={"student": b_student}, headers=clerk(a)
    ).json()
    assert [r["school_year"] for r in by_student["records"]] == ["2023-2024", "2024-2025"]
    assert http_client.get(
        f"{url}/schools/{a}/records", params={"code": b_code}, headers=clerk(a)
    ).json() == {"records": []}


def test_the_year_s_lock_at_another_school_with_the_same_student_id_builds_that_school_s_own_hoc_ba(
    transcript, amqp_uri
):
    url, engine = transcript
    a, b = f"thcs-a-{uuid.uuid4().hex[:6]}", f"thcs-b-{uuid.uuid4().hex[:6]}"
    student = f"hs-{uuid.uuid4().hex[:6]}"
    first = digitise(url, b, student, "2023-2024", 6)
    assert first.status_code == 201, first.text
    b_before = holdings(engine, b)

    event = term_locked(
        maths_class([student], ("gv-a", "Hà Văn A")),
        school_id=a,
        school_name="Trường THCS Ba Đình",
        class_id=f"{a}-7a1",
        class_name="7A1",
        grade=7,
        school_year="2024-2025",
        locked_by="ht-a",
    )
    publish_event(amqp_uri, event, "gradebook")
    built = wait_for(lambda: holdings(engine, a)["year_records"], timeout=60, what="school A's year record")
    (record,) = [json.loads(r) for r in built]
    (own,) = [json.loads(t) for t in holdings(engine, a)["transcripts"]]
    assert record["transcript_id"] == own["id"] and own["student_id"] == student
    assert own["lookup_code"] != first.json()["lookup_code"]
    assert holdings(engine, b) == b_before


def _handed_over_to(engine, school_id: str) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(select(handovers).where(handovers.c.to_school == school_id)).mappings()
        ]


def _read(url: str, school_id: str, record_id: str, kind: str) -> httpx.Response:
    return http_client.get(f"{url}/records/{record_id}/{kind}", headers=clerk(school_id), timeout=30)


def _listed(url: str, school_id: str, **params: str) -> list[dict]:
    return http_client.get(
        f"{url}/schools/{school_id}/records", params=params, headers=clerk(school_id)
    ).json()["records"]


def test_a_transferred_student_keeps_the_lookup_code_at_the_receiving_school_whose_record_stays_its_own(
    transcript, amqp_uri
):
    url, engine = transcript
    a, b, c = (f"thcs-{side}-{uuid.uuid4().hex[:6]}" for side in ("a", "b", "c"))
    at_a, at_b, classmate = (f"hs-{who}-{uuid.uuid4().hex[:6]}" for who in ("a", "b", "ban"))
    sent = digitise(url, a, at_a, "2023-2024", 6)
    assert sent.status_code == 201, sent.text
    code = sent.json()["lookup_code"]
    a_record = _hand_over(url, engine, amqp_uri, a, b)
    a_before = holdings(engine, a)

    # The next year at the receiving school: the student under that school's own id, known by the MOET code the
    # sending school recorded; and a classmate nobody handed over.
    moet = digitised_year("2023-2024", 6, "")["student"]["moet_code"]
    snapshot = maths_class([at_b, classmate], ("gv-b", "Trần Văn Bình"))
    snapshot = snapshot.model_copy(
        update={
            "students": [
                s.model_copy(update={"moet_code": moet}) if s.student_id == at_b else s
                for s in snapshot.students
            ]
        }
    )
    publish_event(
        amqp_uri,
        term_locked(
            snapshot,
            school_id=b,
            school_name="Trường THCS Lê Lợi",
            class_id=f"{b}-7a1",
            class_name="7A1",
            grade=7,
            school_year="2024-2025",
            locked_by="ht-b",
        ),
        "gradebook",
    )
    b_records = wait_for(lambda: len(r := _listed(url, b)) == 2 and r, timeout=60, what="school B's records")
    (moved,) = [r for r in b_records if r["student_id"] == at_b]
    (other,) = [r for r in b_records if r["student_id"] == classmate]

    # One lookup code: the receiving school's học bạ continues the handed-over one; the classmate gets a new one.
    assert moved["lookup_code"] == code and other["lookup_code"] != code
    assert moved["transcript_id"] != a_record["transcript_id"]  # a học bạ row of B's own
    xml = _read(url, b, moved["id"], "xml")
    assert xml.status_code == 200, xml.text
    root = xml_package.validate(xml.content)
    ns = f"{{{xml_package.NS}}}"
    assert root.findtext(f"{ns}Identity/{ns}LookupCode") == code
    assert root.findtext(f"{ns}School/{ns}Id") == b
    assert root.findtext(f"{ns}Identity/{ns}PreviousRecordSha256") == a_record["xml_sha256"]
    assert f"Mã số tra cứu: {code}" in pdftotext(_read(url, b, moved["id"], "pdf").content)

    # Each school's rows stay its own: B's học bạ is B's, A's is untouched.
    with engine.connect() as conn:
        holders = conn.execute(
            select(transcripts.c.school_id).where(transcripts.c.lookup_code == code)
        ).scalars()
        assert sorted(holders) == sorted([a, b])
    assert holdings(engine, a) == a_before

    # Each school's listing by the code holds its own records only; at a school holding none, the code reads
    # exactly as an unknown one.
    assert [r["id"] for r in _listed(url, a, code=code)] == [a_record["id"]]
    assert [r["id"] for r in _listed(url, b, code=code)] == [moved["id"]]
    assert a_record["id"] not in {r["id"] for r in _listed(url, b)}
    assert moved["id"] not in {r["id"] for r in _listed(url, a)}
    assert _listed(url, c, code=code) == _listed(url, c, code=uuid.uuid4().hex) == []

    # Neither school reads the other's record: the answer to an unknown record.
    unknown = _read(url, a, f"yr-{uuid.uuid4().hex[:16]}", "pdf")
    assert unknown.status_code == 404
    for reader, record_id in ((a, moved["id"]), (b, a_record["id"])):
        for kind in ("pdf", "xml"):
            foreign = _read(url, reader, record_id, kind)
            assert (foreign.status_code, foreign.json()) == (404, unknown.json()), (reader, kind)


def test_a_digitised_year_first_at_the_receiving_school_continues_the_code_at_the_level_handed_over(
    transcript, amqp_uri
):
    url, engine = transcript
    a, b = f"thcs-a-{uuid.uuid4().hex[:6]}", f"thcs-b-{uuid.uuid4().hex[:6]}"
    sent = digitise(url, a, f"hs-a-{uuid.uuid4().hex[:6]}", "2023-2024", 6)
    assert sent.status_code == 201, sent.text
    _hand_over(url, engine, amqp_uri, a, b)

    # The same student (the same MOET code) under B's own ids: lower secondary continues the lower-secondary học
    # bạ's code; upper secondary is another học bạ (one per level), with a code of its own.
    lower = digitise(url, b, f"hs-b-{uuid.uuid4().hex[:6]}", "2024-2025", 7)
    upper = digitise(url, b, f"hs-b-{uuid.uuid4().hex[:6]}", "2027-2028", 10)
    assert lower.status_code == upper.status_code == 201, (lower.text, upper.text)
    assert lower.json()["lookup_code"] == sent.json()["lookup_code"]
    assert upper.json()["lookup_code"] != sent.json()["lookup_code"]


def test_a_student_without_a_moet_code_is_found_by_the_personal_id_and_keeps_the_code(transcript, amqp_uri):
    """The Ministry's database has not given the student a code yet: the handover names them by the keyed hash of
    the personal ID (never the number), so the receiving school's học bạ still continues the code; another student
    without a code, with another ID, gets a new one."""
    url, engine = transcript
    a, b = f"thcs-a-{uuid.uuid4().hex[:6]}", f"thcs-b-{uuid.uuid4().hex[:6]}"
    pid = f"0013{uuid.uuid4().int % 10**8:08d}"
    sent = digitise(url, a, f"hs-a-{uuid.uuid4().hex[:6]}", "2023-2024", 6, moet_code=None, personal_id=pid)
    assert sent.status_code == 201, sent.text
    _hand_over(url, engine, amqp_uri, a, b)
    with engine.connect() as conn:
        (stored,) = conn.execute(
            select(handovers.c.personal_id_hash).where(handovers.c.to_school == b)
        ).scalars()
    assert stored and len(stored) == 64 and pid not in stored  # a keyed hash, not the number

    moved = digitise(url, b, f"hs-b-{uuid.uuid4().hex[:6]}", "2024-2025", 7, moet_code=None, personal_id=pid)
    other_pid = f"0014{uuid.uuid4().int % 10**8:08d}"
    other = digitise(
        url, b, f"hs-b-{uuid.uuid4().hex[:6]}", "2024-2025", 7, moet_code=None, personal_id=other_pid
    )
    assert moved.status_code == other.status_code == 201, (moved.text, other.text)
    assert moved.json()["lookup_code"] == sent.json()["lookup_code"]
    assert other.json()["lookup_code"] != sent.json()["lookup_code"]


def _hand_over(
    url: str, engine, amqp_uri: str, sender: str, receiver: str, student_id: str | None = None
) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The sending school's only record's học bạ handed over to ``receiver``, as sync announces an approved
    transfer (naming the student as the sending school knows them, when ``student_id`` is given); returns that
    record as the sender lists it."""
    (record,) = _listed(url, sender)
    publish_event(
        amqp_uri,
        TranscriptTransferredV1(
            transcript_id=record["transcript_id"],
            from_school=sender,
            to_school=receiver,
            transferred_at=datetime.now(UTC),
            student_id=student_id,
        ),
        "sync",
    )
    wait_for(lambda: _handed_over_to(engine, receiver), what="the handover received")
    return record
