"""Tenancy of the học bạ: a student id is the school's own, so naming another school's id reaches nothing of it."""

import json
import uuid

import httpx
import pytest
from sqlalchemy import select

from sandbox.issuer import mint_token
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from services.transcript.service import TranscriptService
from services.transcript.store.tables import transcripts, year_records
from tests.factories import digitised_year, maths_class, term_locked
from tests.helpers import publish_event, purge, running, wait_for

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


def digitise(url: str, school_id: str, student_id: str, school_year: str, grade: int) -> httpx.Response:
    body = digitised_year(school_year, grade, f"Học bạ giấy của {student_id}, {school_year}", student_id)
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
