"""Each role sees its own year records: teachers their classes, the school's leadership and staff the school."""

import uuid

import pytest

from sandbox.issuer import mint_token
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.settings import get_settings
from services.transcript.service import TranscriptService
from tests.factories import digitised_year, maths_class, term_locked
from tests.helpers import digitise, publish_event, purge, running, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def transcript(amqp_uri, service_databases):
    for s in subscriptions_of(TranscriptService):
        purge(amqp_uri, s.queue)
        purge(amqp_uri, s.dead_letter_queue)
    with running(TranscriptService, amqp_uri) as container:
        yield container.http_url


def as_(school_id: str | None, user_id: str, *roles: str) -> dict[str, str]:
    token = mint_token(get_settings(), user_id=user_id, roles=list(roles), school_id=school_id)
    return {"Authorization": f"Bearer {token}"}


def lock(amqp_uri: str, school_id: str, class_name: str, homeroom: str, teacher: str, students: int) -> str:
    """Gradebook's year lock of one class (two students), as the event transcript consumes."""
    class_id = f"{school_id}-{class_name.lower()}"
    event = term_locked(
        maths_class(
            [f"{class_id}-hs-{i}" for i in range(students)],
            (teacher, "Hà Văn Toán"),
            content_hash=uuid.uuid4().hex * 2,
            homeroom_teacher_id=homeroom,
            homeroom_teacher_name="Lê Thị Chủ Nhiệm",
        ),
        school_id=school_id,
        school_name="Trường THCS Ba Đình",
        class_id=class_id,
        class_name=class_name,
        grade=7,
        locked_by="ht-1",
    )
    publish_event(amqp_uri, event, "gradebook")
    return class_id


@pytest.fixture(scope="module")
def school(transcript, amqp_uri):
    """Two locked classes (7A1: 2 students, 7A2: 3) and one digitised earlier year, each with its own teachers."""
    school_id = f"thcs-{uuid.uuid4().hex[:6]}"
    a1 = lock(amqp_uri, school_id, "7A1", "gvcn-7a1", "gv-toan-7a1", 2)
    a2 = lock(amqp_uri, school_id, "7A2", "gvcn-7a2", "gv-toan-7a2", 3)
    digitise(
        transcript,
        school_id,
        digitised_year("2023-2024", 6, "Học bạ giấy, lưu trữ trường", f"{school_id}-hs-giay"),
        as_(school_id, "van-thu", "staff"),
    )
    clerk = as_(school_id, "van-thu", "staff")
    wait_for(
        lambda: len(listed(transcript, school_id, clerk)) == 6,
        timeout=60,
        what="6 year records of the school",
    )
    return {"id": school_id, "7A1": a1, "7A2": a2}


def listed(url: str, school_id: str, headers: dict[str, str]) -> list[dict]:
    response = http_client.get(f"{url}/schools/{school_id}/records", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["records"]


def classes(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        counts[r["class_id"]] = counts.get(r["class_id"], 0) + 1
    return counts


def test_a_homeroom_teacher_lists_only_their_class(transcript, school):
    mine = listed(transcript, school["id"], as_(school["id"], "gvcn-7a1", "teacher", "homeroom"))
    assert classes(mine) == {school["7A1"]: 2}
    # The filter is no request parameter: asking for another class's student still finds nothing of it.
    headers = as_(school["id"], "gvcn-7a1", "teacher", "homeroom")
    other_student = http_client.get(
        f"{transcript}/schools/{school['id']}/records",
        params={"student": f"{school['7A2']}-hs-0"},
        headers=headers,
    )
    assert other_student.json() == {"records": []}


def test_a_subject_teacher_lists_only_the_classes_they_teach(transcript, school):
    assert classes(listed(transcript, school["id"], as_(school["id"], "gv-toan-7a2", "teacher"))) == {
        school["7A2"]: 3
    }
    assert listed(transcript, school["id"], as_(school["id"], "gv-khong-day", "teacher")) == []


def test_a_digitised_year_is_listed_for_the_teachers_its_plan_names_still_at_the_school(transcript, school):
    # test_digitised.year: "gv-moi" teaches ngữ văn and leads the class; "gv-cu" has left (the principal signs).
    assert classes(listed(transcript, school["id"], as_(school["id"], "gv-moi", "teacher", "homeroom"))) == {
        "digitised": 1
    }
    assert listed(transcript, school["id"], as_(school["id"], "gv-cu", "teacher")) == []


@pytest.mark.parametrize("role", ["principal", "staff", "inspector"])
def test_the_school_s_leadership_and_staff_list_the_whole_school(transcript, school, role):
    everything = classes(listed(transcript, school["id"], as_(school["id"], f"nguoi-{role}", role)))
    assert everything == {school["7A1"]: 2, school["7A2"]: 3, "digitised": 1}


def test_a_teacher_downloads_only_their_own_classes_records(transcript, school):
    clerk = as_(school["id"], "van-thu", "staff")
    records = {r["class_id"]: r["id"] for r in listed(transcript, school["id"], clerk)}
    homeroom = as_(school["id"], "gvcn-7a1", "teacher", "homeroom")
    own = http_client.get(f"{transcript}/records/{records[school['7A1']]}/pdf", headers=homeroom)
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    other = http_client.get(f"{transcript}/records/{records[school['7A2']]}/pdf", headers=homeroom)
    assert other.status_code == 403
    assert other.json()["detail"] == "Giáo viên chỉ được tải học bạ của lớp mình dạy hoặc chủ nhiệm."


def test_an_operator_and_another_school_read_nothing_and_get_the_404_of_an_unknown_school(transcript, school):
    clerk = as_(school["id"], "van-thu", "staff")
    record = listed(transcript, school["id"], clerk)[0]["id"]
    unknown_school = http_client.get(
        f"{transcript}/schools/truong-khong-co/records", headers=as_("thcs-khac", "vt", "staff")
    )
    unknown_record = http_client.get(
        f"{transcript}/records/khong-co/pdf", headers=as_("thcs-khac", "vt", "staff")
    )
    assert unknown_school.status_code == unknown_record.status_code == 404
    for headers in (as_(None, "ops", "operator"), as_("thcs-khac", "gvcn", "teacher", "homeroom")):
        listing = http_client.get(f"{transcript}/schools/{school['id']}/records", headers=headers)
        assert (listing.status_code, listing.json()) == (404, unknown_school.json())
    other = http_client.get(
        f"{transcript}/records/{record}/pdf", headers=as_("thcs-khac", "gvcn", "teacher", "homeroom")
    )
    assert (other.status_code, other.json()) == (404, unknown_record.json())
    # An operator holds no reading role at all: refused before any record is looked up.
    assert (
        http_client.get(
            f"{transcript}/records/{record}/pdf", headers=as_(None, "ops", "operator")
        ).status_code
        == 403
    )
    assert unknown_school.json()["detail"] == "Không tìm thấy trường này."
