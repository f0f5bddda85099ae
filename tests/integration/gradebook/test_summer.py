"""The summer stage through the API (TT22 art. 12–14): after the year's lock the subject teacher enters re-test
results and the homeroom teacher the conduct after summer training, for the students the year sent there; the
principal's summer lock recomputes them with the one rules pipeline, keeps the year-end results beside, and sends
the year's snapshot again on the supplementary path. Bad input is refused in Vietnamese and nothing is lost."""

import uuid

import pytest
from sqlalchemy import create_engine

from sandbox.sample_school import build
from tests.integration.gradebook.support import (
    Client,
    enter_chosen_year,
    load_school,
    outbox_bodies,
    student_results,
    term_entry,
)

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def world(gradebook, service_databases):
    """Grade 8, three students: R fails Toán and Ngữ văn (re-test), T's conduct is Chưa đạt (summer training), N
    passes. Term I is locked; term II is not yet."""
    sample = build(f"he-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    r, t, n = (s["student_id"] for s in sample.students_of(class_id))
    weak = {"toan": "3", "ngu_van": "4"}
    marks = {
        sid: {
            code: {
                term: term_entry(code, periods, weak.get(code, "8") if sid == r else "8")
                for term in ("hk1", "hk2")
            }
            for code, periods in sample.subjects
        }
        for sid in (r, t, n)
    }
    conduct = {r: "Tốt", t: "Chưa đạt", n: "Tốt"}
    homeroom = {
        sid: {term: {"conduct": conduct[sid], "absences": 1} for term in ("hk1", "hk2")} for sid in conduct
    }
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/classes/{class_id}/terms/hk1/lock").raise_for_status()
    engine = create_engine(service_databases["gradebook"])
    yield {"sample": sample, "client": client, "class": class_id, "r": r, "t": t, "n": n, "db": engine}
    engine.dispose()


def _as(w, who: str):
    s, c = w["sample"], w["class"]
    people = {
        "toan": (s.teacher_of(c, "toan"), ("teacher",)),
        "ngu_van": (s.teacher_of(c, "ngu_van"), ("teacher",)),
        "homeroom": (s.homeroom_of(c), ("teacher", "homeroom")),
        "principal": ("hieu-truong", ("principal",)),
    }
    user, roles = people[who]
    return w["client"].as_(user, *roles)


def _results(w, student_id):
    return student_results(w["client"], w["class"], student_id, "hieu-truong", "principal")


def _retest(w, who, code, entries):
    with _as(w, who) as http:
        return http.put(f"/classes/{w['class']}/subjects/{code}/summer/retest", json={"entries": entries})


def _conduct(w, entries):
    with _as(w, "homeroom") as http:
        return http.put(f"/classes/{w['class']}/summer/conduct", json={"entries": entries})


def test_the_summer_opens_only_after_the_years_lock(world):
    w = world
    early = _retest(w, "toan", "toan", [{"student_id": w["r"], "result": 6.5}])
    assert early.status_code == 409, early.text
    assert early.headers["content-type"].startswith(PROBLEM)
    assert "chưa khóa" in early.json()["detail"]
    with _as(w, "principal") as p:
        locked = p.post(f"/classes/{w['class']}/terms/hk2/lock")
    assert locked.status_code == 201, locked.text
    year = _results(w, w["r"])["year"]
    assert (year["promotion"], year["retest_subjects"], year["reporting_path"]) == (
        "kiểm tra lại",
        "ngu_van, toan",
        "supplementary",
    )
    assert _results(w, w["t"])["year"]["promotion"] == "rèn luyện trong kì nghỉ hè"
    assert _results(w, w["n"])["year"]["reporting_path"] == "regular"


def test_bad_summer_input_is_refused_in_vietnamese_and_loses_nothing(world):
    w = world
    saved = _retest(w, "toan", "toan", [{"student_id": w["r"], "result": 6.5}])
    assert saved.status_code == 200, saved.text
    refusals = [
        # N was not sent to a re-test: the whole request is refused, R's new value with it.
        (
            _retest(
                w, "toan", "toan", [{"student_id": w["r"], "result": 9}, {"student_id": w["n"], "result": 7}]
            ),
            "entries[1].student_id",
            "không phải kiểm tra lại môn Toán",
        ),
        (
            _retest(w, "toan", "toan", [{"student_id": w["r"], "result": 11}]),
            "entries[0].result",
            "từ 0 đến 10",
        ),
        (_retest(w, "toan", "toan", [{"student_id": w["r"], "result": "Đ"}]), "entries[0].result", "điểm số"),
        (
            _retest(w, "toan", "toan", [{"student_id": "hs-khong-co", "result": 7}]),
            "entries[0].student_id",
            "không thuộc lớp",
        ),
        (_conduct(w, [{"student_id": w["t"], "conduct": "Giỏi"}]), "entries[0].conduct", "Tốt, Khá, Đạt"),
        (
            _conduct(w, [{"student_id": w["r"], "conduct": "Tốt"}]),
            "entries[0].student_id",
            "không phải rèn luyện trong kì nghỉ hè",
        ),
    ]
    for response, field, words in refusals:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["errors"] == [{"field": field, "message": problem["detail"]}]
        assert words in problem["detail"], problem["detail"]
    assert (
        _results(w, w["r"])["averages"]["toan.year_after_retest"] == "6.5"
    )  # nothing lost, nothing half-saved

    # Only the subject's teacher enters its re-test, only the homeroom teacher the summer conduct.
    assert _retest(w, "ngu_van", "toan", [{"student_id": w["r"], "result": 9}]).status_code == 403
    with _as(w, "toan") as teacher:
        refused = teacher.put(
            f"/classes/{w['class']}/summer/conduct",
            json={"entries": [{"student_id": w["t"], "conduct": "Tốt"}]},
        )
    assert refused.status_code == 403, refused.text
    with _as(w, "homeroom") as h:
        assert h.post(f"/classes/{w['class']}/summer/lock").status_code == 403


def test_the_summer_lock_recomputes_keeps_both_results_and_sends_the_supplementary_record(world):
    w = world
    assert _conduct(w, [{"student_id": w["t"], "conduct": "Đạt"}]).status_code == 200
    with _as(w, "principal") as p:
        refused = p.post(f"/classes/{w['class']}/summer/lock")
    assert refused.status_code == 409, refused.text
    assert refused.json()["missing"] == [
        {
            "student_id": w["r"],
            "student": next(
                s["full_name"] for s in w["sample"].students_of(w["class"]) if s["student_id"] == w["r"]
            ),
            "result": "kiểm tra lại môn Ngữ văn",
        }
    ]
    assert _retest(w, "ngu_van", "ngu_van", [{"student_id": w["r"], "result": "5"}]).status_code == 200

    before = [
        b["data"]
        for b in outbox_bodies(w["db"], "gradebook.term.locked.v1")
        if b["data"]["class_id"] == w["class"]
    ]
    year_end = next(e for e in before if e["term"] == "hk2")
    with _as(w, "principal") as p:
        locked = p.post(f"/classes/{w['class']}/summer/lock")
        assert locked.status_code == 201, locked.text
        again = p.post(f"/classes/{w['class']}/summer/lock")
        assert again.status_code == 409, again.text
    outcomes = {s["student_id"]: s for s in locked.json()["students"]}
    assert outcomes[w["r"]]["promotion_after_retest"] == "lên lớp"
    assert outcomes[w["t"]]["promotion_after_retest"] == "lên lớp"
    assert set(outcomes) == {w["r"], w["t"]}

    r = _results(w, w["r"])
    assert r["averages"]["toan.year"] == "3.0" and r["averages"]["toan.year_after_retest"] == "6.5"
    assert r["year"]["learning_result"] == "Chưa đạt"
    assert r["year"]["learning_result_after_retest"] == "Khá"
    assert r["year"]["promotion"] == "kiểm tra lại" and r["year"]["promotion_after_retest"] == "lên lớp"
    t = _results(w, w["t"])["year"]
    assert (t["conduct"], t["conduct_after_summer"], t["promotion_after_retest"]) == (
        "Chưa đạt",
        "Đạt",
        "lên lớp",
    )

    (summer,) = [
        b["data"]
        for b in outbox_bodies(w["db"], "gradebook.term.locked.v1")
        if b["data"]["class_id"] == w["class"] and b["data"]["summer"]
    ]
    assert summer["term"] == "hk2"
    records = {s["student_id"]: s for s in summer["snapshot"]["students"]}
    toan = next(x for x in records[w["r"]]["subjects"] if x["subject_code"] == "toan")
    assert (toan["year"], toan["year_after_retest"]) == ("3.0", "6.5")
    assert records[w["r"]]["year"]["reporting_path"] == "supplementary"
    assert records[w["t"]]["year"]["reporting_path"] == "supplementary"
    assert records[w["r"]]["year"]["promotion_after_retest"] == "lên lớp"
    # Everyone else's record is exactly the year-end one: the transcript finds it unchanged.
    year_end_n = next(s for s in year_end["snapshot"]["students"] if s["student_id"] == w["n"])
    assert records[w["n"]] == year_end_n

    late = _retest(w, "toan", "toan", [{"student_id": w["r"], "result": 7}])
    assert late.status_code == 409 and "đã khóa" in late.json()["detail"], late.text
    with _as(w, "principal") as p:
        reopened = p.post(f"/classes/{w['class']}/terms/hk2/unlock", json={"reason": "Mở lại để sửa"})
    assert reopened.status_code == 409 and "không mở khóa học kỳ II" in reopened.json()["detail"], (
        reopened.text
    )
    audits = [
        b["data"]
        for b in outbox_bodies(w["db"], "audit.recorded.v1")
        if b["data"]["entity_id"].startswith(f"class/{w['class']}/") and "summer" in b["data"]["entity_id"]
    ]
    assert {(a["action"], a["actor_role"]) for a in audits} == {
        ("marks.record", "teacher"),
        ("homeroom.record", "homeroom"),
        ("term.lock", "principal"),
    }


def test_another_schools_principal_cannot_lock_the_summer(world, gradebook):
    other = build(f"he-khac-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=1)
    with Client(gradebook, other.school_id).as_("hieu-truong", "principal") as p:
        theirs = p.post(f"/classes/{world['class']}/summer/lock")
        nobody = p.post("/classes/lop-khong-co/summer/lock")
    assert theirs.status_code == nobody.status_code == 404
    assert theirs.json() == nobody.json()


def test_the_principal_may_lock_the_summer_without_a_student_who_did_not_come_naming_them_with_a_reason(
    gradebook,
):
    sample = build(f"he-vang-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=1)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    (absent,) = (s["student_id"] for s in sample.students_of(class_id))
    weak = {"toan": "3", "ngu_van": "4"}
    marks = {
        absent: {
            code: {term: term_entry(code, periods, weak.get(code, "8")) for term in ("hk1", "hk2")}
            for code, periods in sample.subjects
        }
    }
    homeroom = {absent: {t: {"conduct": "Tốt", "absences": 0} for t in ("hk1", "hk2")}}
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    with client.as_("hieu-truong", "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
        reasonless = p.post(f"/classes/{class_id}/summer/lock", json={"incomplete_accepted": [absent]})
        assert reasonless.status_code == 422, reasonless.text
        locked = p.post(
            f"/classes/{class_id}/summer/lock",
            json={"incomplete_accepted": [absent], "reason": "Học sinh không đến kiểm tra lại"},
        )
    assert locked.status_code == 201, locked.text
    assert [m["result"] for m in locked.json()["incomplete_accepted"]] == [
        "kiểm tra lại môn Ngữ văn",
        "kiểm tra lại môn Toán",
    ]
