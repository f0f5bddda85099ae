"""Individual education plans (kế hoạch giáo dục cá nhân, TT22 art. 10) through the API: the principal records
one, audited; a plan subject's complete term needs the teacher's comment against the plan; the results name the plan
and are computed by the same rules; the lock's snapshot marks the plan's subjects; nobody else decides, no other
school's."""

import uuid

import pytest

from sandbox.sample_school import build
from services.gradebook.domain.evaluate import evaluate
from tests.integration.gradebook.support import (
    Client,
    assert_only_the_principal_decides,
    enter_chosen_year,
    load_school,
    outbox_bodies,
    principal_decisions,
    rules_cli_input,
    school_and_another,
    student_results,
    term_entry,
)

pytestmark = pytest.mark.integration

REASON = "Quyết định số 21/QĐ-THCS phê duyệt kế hoạch giáo dục cá nhân của học sinh"
COMMENT = "Cộng, trừ phân số cùng mẫu: đạt yêu cầu của kế hoạch"
PLAN_WORDS = "kế hoạch giáo dục cá nhân"


@pytest.fixture(scope="module")
def world(gradebook, service_databases):
    with school_and_another(gradebook, service_databases["gradebook"], "khgd", students_per_class=3) as world:
        yield world


def _year(sample, students, comment_on=None):
    """Every subject 7.5 (every comment Đ) in both terms; ``comment_on``: (student, subject) entered with COMMENT."""
    marks = {
        sid: {
            code: {
                term: term_entry(code, periods, "7.5")
                | ({"comment": COMMENT} if (sid, code) == comment_on else {})
                for term in ("hk1", "hk2")
            }
            for code, periods in sample.subjects
        }
        for sid in students
    }
    homeroom = {sid: {"hk1": {"conduct": "Khá"}, "hk2": {"conduct": "Tốt"}} for sid in students}
    return marks, homeroom


def _results(client, sample, class_id, student_id):
    return student_results(client, class_id, student_id, sample.homeroom_of(class_id), "teacher", "homeroom")


def test_a_plan_s_subjects_are_assessed_against_it_the_results_say_so_and_the_snapshot_carries_it(world):
    sample, client, _, engine = world
    class_id = sample.classes[0]["class_id"]
    planned, usual, third = (s["student_id"] for s in sample.students_of(class_id))
    with client.as_("hieu-truong", "principal") as p:
        decided = p.post(
            f"/classes/{class_id}/students/{planned}/individual-plans",
            json={"subjects": ["toan"], "reason": REASON},
        )
        assert decided.status_code == 201, decided.text
        assert decided.json()["subjects"] == [{"code": "toan", "name": "Toán"}]
        # One plan a year: the principal withdraws it before deciding another.
        again = p.post(
            f"/classes/{class_id}/students/{planned}/individual-plans",
            json={"subjects": ["ngu_van"], "reason": REASON},
        )
        assert again.status_code == 409, again.text

    # The Toán teacher's complete term for the student on the plan needs the comment against the plan; the other
    # rows of the request are not saved either.
    with client.as_(sample.teacher_of(class_id, "toan"), "teacher") as t:
        refused = t.put(
            f"/classes/{class_id}/subjects/toan/terms/hk1/marks",
            json={
                "entries": [{"student_id": sid, **term_entry("toan", 140, "7.5")} for sid in (usual, planned)]
            },
        )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "ghi nhận xét về mức độ học sinh đạt yêu cầu của kế hoạch" in refused.json()["detail"]
    assert "toan.hk1" not in _results(client, sample, class_id, usual)["averages"]

    marks, homeroom = _year(sample, (planned, usual, third), comment_on=(planned, "toan"))
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    on_plan, as_usual = (_results(client, sample, class_id, sid) for sid in (planned, usual))
    # TT22 art. 10: the same form against the plan, so the same values compute the same results.
    assert on_plan["averages"] == as_usual["averages"]
    assert on_plan["year"]["learning_result"] == as_usual["year"]["learning_result"]
    why = on_plan["explanations"]
    assert f"đánh giá theo yêu cầu của {PLAN_WORDS} (Điều 10" in why["toan.year"]
    assert PLAN_WORDS not in why["ngu_van.year"]
    for key in ("learning_result.year", "conduct.year"):
        assert f"học sinh học theo {PLAN_WORDS}: Toán đánh giá theo yêu cầu" in why[key], key
    assert not any(PLAN_WORDS in text for text in as_usual["explanations"].values())
    # One rules pipeline: the rules CLI given the same year and ``individual_plan`` says the same, reason for reason.
    order = list(dict.fromkeys(key.split(".")[0] for key in on_plan["averages"]))
    cli = evaluate(
        rules_cli_input(
            sample,
            class_id,
            planned,
            order,
            plan=["toan"],
            marks=marks[planned],
            homeroom=homeroom[planned],
        ),
        explain=True,
    )
    assert [r["code"] for r in cli["subjects"] if r.get("individual_plan")] == ["toan"]
    assert on_plan["learning_result"] == cli["learning_result"]
    assert on_plan["year"]["conduct"] == cli["conduct"]["year"]
    for key, reason in on_plan["explanations"].items():
        assert cli["explanations"].get(key) == reason, key

    with client.as_("hieu-truong", "principal") as p:
        for term in ("hk1", "hk2"):
            locked = p.post(f"/classes/{class_id}/terms/{term}/lock")
            assert locked.status_code == 201, locked.text
        late = p.post(
            f"/individual-plans/{decided.json()['id']}/withdraw", json={"reason": "Nhầm quyết định"}
        )
        assert late.status_code == 409, late.text  # a locked term changes only by an amendment

    locked_year = [
        b["data"]
        for b in outbox_bodies(engine, "gradebook.term.locked.v1")
        if b["data"]["class_id"] == class_id and b["data"]["term"] == "hk2"
    ][-1]
    students = {s["student_id"]: s for s in locked_year["snapshot"]["students"]}
    flags = {r["subject_code"]: r["individual_plan"] for r in students[planned]["subjects"]}
    assert flags.pop("toan") is True and set(flags.values()) == {None}
    assert {r["individual_plan"] for r in students[usual]["subjects"]} == {None}

    (audit,) = principal_decisions(engine, sample.school_id, "individual_plan.decide")
    assert (audit["entity_type"], audit["reason"]) == ("individual_plan", REASON)
    assert audit["entity_id"] == f"class/{class_id}/student/{planned}/individual_plan/{decided.json()['id']}"


def test_only_the_principal_of_the_school_decides_and_another_schools_student_is_unknown(world):
    sample, client, other, _ = world
    class_id = sample.classes[1]["class_id"]
    student = sample.students_of(class_id)[2]["student_id"]
    body = {"subjects": ["toan"], "reason": REASON}
    assert_only_the_principal_decides(
        client, sample, other, class_id, student, "individual-plans", body, subject="toan"
    )


def test_bad_input_is_refused_in_vietnamese_and_a_withdrawal_is_audited(world):
    sample, client, _, engine = world
    class_id = sample.classes[1]["class_id"]
    student = sample.students_of(class_id)[0]["student_id"]
    path = f"/classes/{class_id}/students/{student}/individual-plans"
    with client.as_("hieu-truong", "principal") as p:
        for body, status in (
            ({"subjects": [], "reason": REASON}, 422),
            ({"subjects": ["toan"]}, 422),
            ({"subjects": ["tieng_viet"], "reason": REASON}, 422),
            ({"subjects": ["toan", "toan"], "reason": REASON}, 422),
        ):
            refused = p.post(path, json=body)
            assert refused.status_code == status, (body, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
        untaught = p.post(path, json={"subjects": ["tieng_viet"], "reason": REASON})
        assert untaught.json()["detail"] == "Lớp không học môn: tieng_viet."
        unknown = p.post("/individual-plans/kh-khong-co/withdraw", json={"reason": "Nhầm quyết định"})
        assert unknown.status_code == 404, unknown.text
        assert _list(client, sample, class_id) == []  # nothing was stored by the refusals

        decided = p.post(path, json={"subjects": ["toan", "ngu_van"], "reason": REASON})
        assert decided.status_code == 201, decided.text
        assert [s["name"] for s in _list(client, sample, class_id)[0]["subjects"]] == ["Toán", "Ngữ văn"]
        withdrawn = p.post(
            f"/individual-plans/{decided.json()['id']}/withdraw",
            json={"reason": "Kế hoạch được điều chỉnh"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        assert _list(client, sample, class_id) == []
        again = p.post(path, json={"subjects": ["toan"], "reason": REASON})
        assert again.status_code == 201, again.text
    (withdrawal,) = [
        b["data"]
        for b in outbox_bodies(engine, "audit.recorded.v1")
        if b["data"]["action"] == "individual_plan.withdraw"
        and decided.json()["id"] in b["data"]["entity_id"]
    ]
    assert (withdrawal["reason"], withdrawal["actor_role"]) == ("Kế hoạch được điều chỉnh", "principal")
    assert withdrawal["before_hash"] and withdrawal["after_hash"] is None


def _list(client, sample, class_id):
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        r = h.get(f"/classes/{class_id}/individual-plans")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_plan_recorded_after_the_marks_leaves_a_gap_the_year_s_lock_names(world):
    sample, client, _, _ = world
    class_id = sample.classes[1]["class_id"]
    students = [s["student_id"] for s in sample.students_of(class_id)]
    planned = students[1]
    # Student 0 follows a plan in Toán already (the test above): its terms carry the comment.
    marks, homeroom = _year(sample, students, comment_on=(students[0], "toan"))
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    with client.as_("hieu-truong", "principal") as p:
        p.post(
            f"/classes/{class_id}/students/{planned}/individual-plans",
            json={"subjects": ["ngu_van"], "reason": REASON},
        ).raise_for_status()
        p.post(f"/classes/{class_id}/terms/hk1/lock").raise_for_status()
        refused = p.post(f"/classes/{class_id}/terms/hk2/lock")
        assert refused.status_code == 409, refused.text
        gaps = [(m["student_id"], m["result"]) for m in refused.json()["missing"]]
        assert gaps == [
            (planned, f"nhận xét môn Ngữ văn {term} theo {PLAN_WORDS}") for term in ("học kỳ I", "học kỳ II")
        ]
        accepted = p.post(
            f"/classes/{class_id}/terms/hk2/lock",
            json={
                "incomplete_accepted": [planned],
                "reason": "Nhận xét ghi trong hồ sơ kế hoạch giáo dục cá nhân",
            },
        )
        assert accepted.status_code == 201, accepted.text


def test_a_primary_pupil_s_plan_is_recorded_and_a_level_on_it_needs_the_comment(gradebook):
    # Unlike an exemption (TT22 only), a plan is for primary pupils too (TT27's assessment of pupils with disabilities).
    primary = build(f"th-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=2, grade=4)
    client = Client(gradebook, primary.school_id)
    load_school(client, primary)
    class_id = primary.classes[0]["class_id"]
    pupil, other_pupil = (s["student_id"] for s in primary.students_of(class_id))
    with client.as_("hieu-truong", "principal") as p:
        decided = p.post(
            f"/classes/{class_id}/students/{pupil}/individual-plans",
            json={"subjects": ["toan"], "reason": REASON},
        )
    assert decided.status_code == 201, decided.text
    path = f"/classes/{class_id}/subjects/toan/terms/hk1/marks"
    with client.as_(primary.teacher_of(class_id, "toan"), "teacher") as t:
        refused = t.put(path, json={"entries": [{"student_id": pupil, "level": "H", "test": 7}]})
        assert refused.status_code == 422, refused.text
        assert "kế hoạch giáo dục cá nhân" in refused.json()["detail"]
        usual = t.put(path, json={"entries": [{"student_id": other_pupil, "level": "H", "test": 7}]})
        assert usual.status_code == 200, usual.text  # a pupil without a plan: no comment asked for
        entered = t.put(
            path, json={"entries": [{"student_id": pupil, "level": "H", "test": 7, "comment": COMMENT}]}
        )
        assert entered.status_code == 200, entered.text
