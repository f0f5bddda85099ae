"""A term carried from the previous school through the API: who records it, what is refused (in Vietnamese), the
audit entry with its source, a correction replacing it, the year's lock closing it, and the class sheet marking it."""

import pytest

from sandbox.sample_school import SCORED
from tests.integration.gradebook.support import (
    enter_chosen_year,
    outbox_bodies,
    school_and_another,
    term_entry,
)

pytestmark = pytest.mark.integration

SOURCE = "Hồ sơ chuyển trường số 15/CT ngày 12/01/2026"


@pytest.fixture(scope="module")
def world(gradebook, service_databases):
    with school_and_another(
        gradebook, service_databases["gradebook"], "ct", students_per_class=2, others=1
    ) as world:
        yield world


def _body(sample, score: str = "7.4", **changes):
    return {
        "from_school_id": "thcs-tran-phu",
        "from_school_name": "Trường THCS Trần Phú",
        "subjects": {code: (score if code in SCORED else "Đ") for code, _ in sample.subjects},
        "conduct": "Tốt",
        "absences": 0,
        "source": SOURCE,
    } | changes


def test_the_office_records_term_i_from_the_handover_and_a_correction_replaces_it(world):
    sample, client, other, engine = world
    class_id = sample.classes[0]["class_id"]
    moved = sample.students_of(class_id)[0]["student_id"]
    path = f"/classes/{class_id}/students/{moved}/carried-terms/hk1"
    with client.as_("van-thu", "staff") as staff:
        first = staff.put(path, json=_body(sample))
        again = staff.put(path, json=_body(sample, "8.1", conduct="Khá"))
        sheet = staff.get(f"/classes/{class_id}/sheet").json()
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json()["subjects"]["toan"] == "8.1" and again.json()["conduct"] == "Khá"
    (row,) = [s for s in sheet["students"] if s["student_id"] == moved]
    toan = next(r for r in row["subjects"] if r["subject_code"] == "toan")
    assert toan["hk1"]["average"] == "8.1" and toan["hk1"]["assessed_by"] == "thcs-tran-phu"
    assert toan["hk1"]["regular"] == [] and toan["year"] is None  # term II not entered yet: no year
    assert (row["hk1"]["school_id"], row["hk1"]["conduct"]) == ("thcs-tran-phu", "Khá")
    entries = [
        b["data"]
        for b in outbox_bodies(engine, "audit.recorded.v1")
        if b["data"]["action"] == "carried_term.record" and b["data"]["school_id"] == sample.school_id
    ]
    assert len(entries) == 2 and all(e["reason"] == SOURCE for e in entries)
    assert entries[0]["before_hash"] is None and entries[1]["before_hash"] == entries[0]["after_hash"]
    assert entries[1]["changes"]["toan"] == "7.4 → 8.1"


def test_what_is_refused_says_why_in_vietnamese(world):
    sample, client, other, engine = world
    class_id = sample.classes[0]["class_id"]
    moved = sample.students_of(class_id)[0]["student_id"]
    elsewhere = sample.students_of(sample.classes[1]["class_id"])[0]["student_id"]
    base = f"/classes/{class_id}/students"
    with client.as_("hieu-truong", "principal") as p:
        cases = {
            "7.25": p.put(
                f"{base}/{moved}/carried-terms/hk1", json=_body(sample) | {"subjects": {"toan": 7.25}}
            ),
            "gdtc": p.put(
                f"{base}/{moved}/carried-terms/hk1", json=_body(sample) | {"subjects": {"gdtc": "8"}}
            ),
            "own": p.put(
                f"{base}/{moved}/carried-terms/hk1", json=_body(sample, from_school_id=sample.school_id)
            ),
            "hk2": p.put(f"{base}/{moved}/carried-terms/hk2", json=_body(sample)),
            "class": p.put(f"{base}/{elsewhere}/carried-terms/hk1", json=_body(sample)),
            "school": p.put(
                f"{base}/{other.students[0]['student_id']}/carried-terms/hk1", json=_body(sample)
            ),
        }
    expected = {
        "7.25": (422, "Toán: Điểm chỉ có tối đa một chữ số thập phân"),
        "gdtc": (422, "Giáo dục thể chất là môn đánh giá bằng nhận xét"),
        "own": (422, "Trường chuyển đi phải là trường khác"),
        "hk2": (404, "Chỉ ghi được kết quả học kỳ I mang từ trường cũ"),
        "class": (404, "Học sinh không thuộc lớp này."),
        "school": (404, "Học sinh không thuộc lớp này."),
    }
    for case, (status, said) in expected.items():
        response = cases[case]
        assert response.status_code == status, (case, response.text)
        assert response.json()["detail"].startswith(said), (case, response.json()["detail"])


def test_after_the_year_s_lock_the_carried_term_is_closed_with_the_year(world):
    sample, client, other, engine = world
    class_id = sample.classes[1]["class_id"]
    moved, stayed = (s["student_id"] for s in sample.students_of(class_id))
    enter_chosen_year(
        client,
        sample,
        class_id,
        {stayed: {c: {t: term_entry(c, p, "8") for t in ("hk1", "hk2")} for c, p in sample.subjects}},
        {stayed: {t: {"conduct": "Tốt"} for t in ("hk1", "hk2")}},
    )
    for code, periods in sample.subjects:
        with client.as_(sample.teacher_of(class_id, code), "teacher") as t:
            t.put(
                f"/classes/{class_id}/subjects/{code}/terms/hk2/marks",
                json={"entries": [{"student_id": moved, **term_entry(code, periods, "8")}]},
            ).raise_for_status()
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        h.put(
            f"/classes/{class_id}/terms/hk2/homeroom",
            json={"entries": [{"student_id": moved, "conduct": "Tốt"}]},
        ).raise_for_status()
    path = f"/classes/{class_id}/students/{moved}/carried-terms/hk1"
    with client.as_("van-thu", "staff") as staff:
        staff.put(path, json=_body(sample)).raise_for_status()
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/classes/{class_id}/terms/hk1/lock").raise_for_status()
        locked = p.post(f"/classes/{class_id}/terms/hk2/lock")
        assert locked.status_code == 201, locked.text  # the carried term I completes the student's year
        closed = p.put(path, json=_body(sample, "9"))
    assert closed.status_code == 409, closed.text
    assert closed.json()["detail"].startswith(f"Năm học của lớp {sample.classes[1]['name']} đã khóa")
