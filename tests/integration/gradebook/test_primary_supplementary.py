"""The primary supplementary assessment through the API (TT27 art. 11): after the year's lock, a pupil not confirmed
complete is re-assessed on what kept them below Hoàn thành — the subject's teacher enters its new level and test, the
homeroom teacher the qualities and competencies — beside the year's results; the principal's summer lock decides
completion again (and lên lớp for a pupil still not complete, art. 11 §3), and sends the year's snapshot again with
the record on the supplementary path. Bad input is refused in Vietnamese; another school gets 404."""

import uuid

import pytest
from sqlalchemy import create_engine

from sandbox.sample_school import COMPETENCIES, PRIMARY_TESTED, QUALITIES, build
from tests.integration.gradebook.support import (
    Client,
    enter_chosen_year,
    load_school,
    outbox_bodies,
    student_results,
)

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
REASON = "Học sinh tiến bộ rõ sau phụ đạo hè, hội đồng đề nghị"


@pytest.fixture(scope="module")
def world(gradebook, service_databases):
    """Grade 4, three pupils: A has Toán C with its year-end test 4 and chăm chỉ at Cần cố gắng; B completes;
    C has Tiếng Việt H with its year-end test 3. Terms I and II are entered; nothing is locked."""
    sample = build(f"bs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3, grade=4)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    a, b, c = (s["student_id"] for s in sample.students_of(class_id))
    weak = {a: ("toan", "C", 4), c: ("tieng_viet", "H", 3)}

    def entry(sid: str, code: str, term: str) -> dict:
        level, test = "H", 7
        if term == "hk2" and sid in weak and weak[sid][0] == code:
            _, level, test = weak[sid]
        return {"level": level} | ({"test": test} if code in PRIMARY_TESTED else {})

    marks = {
        sid: {code: {t: entry(sid, code, t) for t in ("hk1", "hk2")} for code, _ in sample.subjects}
        for sid in (a, b, c)
    }
    homeroom = {
        sid: {
            t: {
                "qualities": dict.fromkeys(QUALITIES, "Đ") | ({"cham_chi": "C"} if sid == a else {}),
                "competencies": dict.fromkeys(COMPETENCIES, "Đ"),
            }
            for t in ("hk1", "hk2")
        }
        for sid in (a, b, c)
    }
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    engine = create_engine(service_databases["gradebook"])
    yield {"sample": sample, "client": client, "class": class_id, "a": a, "b": b, "c": c, "db": engine}
    engine.dispose()


def _as(w, who: str):
    s, c = w["sample"], w["class"]
    people = {
        # In a primary school the homeroom teacher teaches Tiếng Việt and Toán; Ngoại ngữ 1 has a specialist.
        "homeroom": (s.homeroom_of(c), ("teacher", "homeroom")),
        "ngoai_ngu_1": (s.teacher_of(c, "ngoai_ngu_1"), ("teacher",)),
        "principal": ("hieu-truong", ("principal",)),
    }
    user, roles = people[who]
    return w["client"].as_(user, *roles)


def _results(w, student_id):
    return student_results(w["client"], w["class"], student_id, "hieu-truong", "principal")


def _subject(w, who, code, entries):
    with _as(w, who) as http:
        return http.put(f"/classes/{w['class']}/subjects/{code}/summer/retest", json={"entries": entries})


def _traits(w, who, entries):
    with _as(w, who) as http:
        return http.put(f"/classes/{w['class']}/summer/conduct", json={"entries": entries})


def test_the_supplementary_assessment_opens_after_the_years_lock_for_the_pupils_not_complete(world):
    w = world
    early = _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "H", "test": 6}])
    assert early.status_code == 409 and early.headers["content-type"].startswith(PROBLEM), early.text
    assert "đánh giá bổ sung chỉ nhập sau khi hiệu trưởng khóa năm học" in early.json()["detail"]
    with _as(w, "principal") as p:
        for term in ("hk1", "hk2"):
            assert p.post(f"/classes/{w['class']}/terms/{term}/lock").status_code == 201
    a, b, c = (_results(w, w[k])["year"] for k in "abc")
    assert (a["year_result"], a["completion"], a["reporting_path"]) == (
        "Chưa hoàn thành",
        "Chưa hoàn thành chương trình lớp học",
        "supplementary",
    )
    assert (b["year_result"], b["completion"], b["reporting_path"]) == (
        "Hoàn thành",
        "Hoàn thành chương trình lớp học",
        "regular",
    )
    assert (c["year_result"], c["reporting_path"]) == ("Chưa hoàn thành", "supplementary")


def test_bad_supplementary_input_is_refused_in_vietnamese_and_loses_nothing(world):
    w = world
    saved = _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "T", "test": 5}])
    assert saved.status_code == 200, saved.text
    refusals = [
        # B completed the grade: the whole request is refused, A's new value with it.
        (
            _subject(
                w,
                "homeroom",
                "toan",
                [
                    {"student_id": w["a"], "result": "H", "test": 9},
                    {"student_id": w["b"], "result": "H", "test": 6},
                ],
            ),
            "entries[1].student_id",
            "không phải đánh giá bổ sung môn Toán",
        ),
        # A's Tiếng Việt was Hoàn thành with a test of 7: nothing to re-assess there.
        (
            _subject(w, "homeroom", "tieng_viet", [{"student_id": w["a"], "result": "T", "test": 8}]),
            "entries[0].student_id",
            "không phải đánh giá bổ sung môn Tiếng Việt",
        ),
        (
            _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "H"}]),
            "entries[0].test",
            "cần điểm bài kiểm tra",
        ),
        (
            _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "Đ", "test": 6}]),
            "entries[0].result",
            "mức đạt được là T, H hoặc C",
        ),
        (
            _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "H", "test": 11}]),
            "entries[0].test",
            "1",
        ),
        (
            _traits(w, "homeroom", [{"student_id": w["a"], "qualities": {"nhan_ai": "T"}}]),
            "entries[0].qualities.nhan_ai",
            "không phải đánh giá bổ sung nhân ái",
        ),
        (
            _traits(w, "homeroom", [{"student_id": w["a"], "conduct": "Tốt"}]),
            "entries[0].conduct",
            "không có kết quả rèn luyện",
        ),
        (
            _traits(w, "homeroom", [{"student_id": w["b"], "qualities": {"cham_chi": "T"}}]),
            "entries[0].student_id",
            "đã hoàn thành chương trình lớp học",
        ),
        # C is not complete, but for Tiếng Việt only: no quality is re-assessed.
        (
            _traits(w, "homeroom", [{"student_id": w["c"], "qualities": {"cham_chi": "T"}}]),
            "entries[0].qualities.cham_chi",
            "không phải đánh giá bổ sung chăm chỉ",
        ),
    ]
    for response, field, words in refusals:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["errors"] == [{"field": field, "message": problem["detail"]}]
        assert words in problem["detail"], problem["detail"]
    assert (
        _results(w, w["a"])["averages"]["toan.year_after_retest"] == "T"
    )  # nothing lost, nothing half-saved

    # Only the subject's teacher enters its re-assessment, only the homeroom teacher the qualities/competencies.
    assert (
        _subject(w, "ngoai_ngu_1", "toan", [{"student_id": w["a"], "result": "H", "test": 6}]).status_code
        == 403
    )
    assert (
        _traits(w, "ngoai_ngu_1", [{"student_id": w["a"], "qualities": {"cham_chi": "Đ"}}]).status_code == 403
    )
    with _as(w, "homeroom") as h:
        assert h.post(f"/classes/{w['class']}/summer/lock").status_code == 403


def test_the_summer_lock_decides_completion_again_keeps_both_and_sends_the_supplementary_record(world):
    w = world
    with _as(w, "principal") as p:
        refused = p.post(f"/classes/{w['class']}/summer/lock")
    assert refused.status_code == 409, refused.text
    assert {(m["student_id"], m["result"]) for m in refused.json()["missing"]} == {
        (w["a"], "đánh giá bổ sung chăm chỉ"),
        (w["c"], "đánh giá bổ sung môn Tiếng Việt"),
    }
    assert (
        _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "H", "test": 6}]).status_code == 200
    )
    assert _traits(w, "homeroom", [{"student_id": w["a"], "qualities": {"cham_chi": "Đ"}}]).status_code == 200
    # C is re-assessed and still falls short: the principal decides (art. 11 §3).
    assert (
        _subject(w, "homeroom", "tieng_viet", [{"student_id": w["c"], "result": "H", "test": 4}]).status_code
        == 200
    )
    year_end = next(
        b["data"]
        for b in outbox_bodies(w["db"], "gradebook.term.locked.v1")
        if b["data"]["class_id"] == w["class"] and b["data"]["term"] == "hk2" and not b["data"]["summer"]
    )
    with _as(w, "principal") as p:
        reasonless = p.post(f"/classes/{w['class']}/summer/lock", json={"promoted": [w["c"]]})
        assert reasonless.status_code == 422 and "lý do" in reasonless.json()["detail"], reasonless.text
        complete = p.post(f"/classes/{w['class']}/summer/lock", json={"promoted": [w["b"]], "reason": REASON})
        assert complete.status_code == 422, complete.text
        assert "không thuộc diện chưa hoàn thành" in complete.json()["detail"]
        locked = p.post(f"/classes/{w['class']}/summer/lock", json={"promoted": [w["c"]], "reason": REASON})
        assert locked.status_code == 201, locked.text
    outcomes = {s["student_id"]: s for s in locked.json()["students"]}
    assert set(outcomes) == {w["a"], w["c"]}
    a, c = outcomes[w["a"]], outcomes[w["c"]]
    assert (a["year_result"], a["year_result_after_supplementary"], a["completion_after_supplementary"]) == (
        "Chưa hoàn thành",
        "Hoàn thành",
        "Hoàn thành chương trình lớp học",
    )
    assert (a["promotion_after_supplementary"], a["reporting_path"]) == ("lên lớp", "supplementary")
    assert (c["year_result_after_supplementary"], c["completion_after_supplementary"]) == (
        "Chưa hoàn thành",
        "Chưa hoàn thành chương trình lớp học",
    )
    assert c["promotion_after_supplementary"] == "lên lớp"  # the principal's decision
    why = _results(w, w["c"])["explanations"]["promotion_after_supplementary"]
    assert "hiệu trưởng quyết định cho lên lớp" in why

    r = _results(w, w["a"])
    assert (r["averages"]["toan.year"], r["averages"]["toan.year_after_retest"]) == ("C", "H")
    assert r["year"]["year_result"] == "Chưa hoàn thành"  # the year's result stays beside the new one

    (summer,) = [
        b["data"]
        for b in outbox_bodies(w["db"], "gradebook.term.locked.v1")
        if b["data"]["class_id"] == w["class"] and b["data"]["summer"]
    ]
    records = {s["student_id"]: s for s in summer["snapshot"]["students"]}
    toan = next(x for x in records[w["a"]]["subjects"] if x["subject_code"] == "toan")
    assert (toan["year"], toan["year_after_retest"], toan["hk2"]["test"]) == ("C", "H", 4)
    assert (toan["summer"]["level"], toan["summer"]["test"]) == ("H", 6)  # beside the year's, not over it
    assert records[w["a"]]["summer"]["qualities"] == {"cham_chi": "Đ"}
    assert records[w["a"]]["hk2"]["qualities"]["cham_chi"] == "C"
    assert records[w["a"]]["year"]["reporting_path"] == "supplementary"
    assert records[w["a"]]["year"]["completion_after_supplementary"] == "Hoàn thành chương trình lớp học"
    # The pupil who completed keeps exactly the year-end record: the transcript finds it unchanged.
    assert records[w["b"]] == next(s for s in year_end["snapshot"]["students"] if s["student_id"] == w["b"])

    late = _subject(w, "homeroom", "toan", [{"student_id": w["a"], "result": "T", "test": 9}])
    assert late.status_code == 409 and "đã khóa" in late.json()["detail"], late.text
    audits = {
        (b["data"]["action"], b["data"]["actor_role"])
        for b in outbox_bodies(w["db"], "audit.recorded.v1")
        if b["data"]["entity_id"].startswith(f"class/{w['class']}/") and "summer" in b["data"]["entity_id"]
    }
    assert ("homeroom.record", "principal") in audits  # the principal's lên lớp decision, audited


def test_another_schools_principal_cannot_lock_a_primary_summer(world, gradebook):
    other = build(f"bs-khac-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=1, grade=4)
    with Client(gradebook, other.school_id).as_("hieu-truong", "principal") as p:
        theirs = p.post(f"/classes/{world['class']}/summer/lock", json={"promoted": [world["c"]]})
        nobody = p.post("/classes/lop-khong-co/summer/lock")
    assert theirs.status_code == nobody.status_code == 404
    assert theirs.json() == nobody.json()


def test_a_grade_5_pupil_is_reassessed_too_completes_primary_and_stays_on_the_30_june_path(gradebook):
    """TT27 art. 11 §2 names every pupil not complete, grade 5 included (supplementary.py); the principal cannot
    promote a grade-5 pupil still not complete (entering grade 6 requires completing primary)."""
    sample = build(f"bs-5-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=1, grade=5)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    (pupil,) = (s["student_id"] for s in sample.students_of(class_id))

    def entry(code: str, term: str) -> dict:
        weak = code == "toan" and term == "hk2"
        return {"level": "C" if weak else "H"} | (
            {"test": 3 if weak else 7} if code in PRIMARY_TESTED else {}
        )

    marks = {pupil: {code: {t: entry(code, t) for t in ("hk1", "hk2")} for code, _ in sample.subjects}}
    traits = {"qualities": dict.fromkeys(QUALITIES, "Đ"), "competencies": dict.fromkeys(COMPETENCIES, "Đ")}
    enter_chosen_year(client, sample, class_id, marks, {pupil: {"hk1": traits, "hk2": traits}})
    with client.as_("hieu-truong", "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        h.put(
            f"/classes/{class_id}/subjects/toan/summer/retest",
            json={"entries": [{"student_id": pupil, "result": "H", "test": 6}]},
        ).raise_for_status()
    with client.as_("hieu-truong", "principal") as p:
        refused = p.post(f"/classes/{class_id}/summer/lock", json={"promoted": [pupil], "reason": REASON})
        assert refused.status_code == 422 and "lớp 5" in refused.json()["detail"], refused.text
        locked = p.post(f"/classes/{class_id}/summer/lock")
    assert locked.status_code == 201, locked.text
    (outcome,) = locked.json()["students"]
    assert (outcome["year_result"], outcome["completion"], outcome["reporting_path"]) == (
        "Chưa hoàn thành",
        "Chưa hoàn thành chương trình lớp học",
        "regular",
    )
    assert (outcome["completion_after_supplementary"], outcome["promotion_after_supplementary"]) == (
        "Hoàn thành chương trình tiểu học",
        "hoàn thành chương trình tiểu học",
    )
