"""Exemptions (miễn học) through the API: the principal decides them, audited; the year leaves the subject out as
the rules CLI does for ``exempt``; the lock's snapshot prints "Miễn"; nobody else decides, no other school's."""

import uuid

import pytest

from sandbox.sample_school import build, marks_for
from services.gradebook.domain.evaluate import evaluate
from tests.integration.gradebook.support import (
    Client,
    assert_only_the_principal_decides,
    enter_year,
    load_school,
    outbox_bodies,
    principal_decisions,
    rules_cli_input,
    school_and_another,
    student_results,
)

pytestmark = pytest.mark.integration

REASON = "Quyết định số 15/QĐ-THCS: miễn học Giáo dục thể chất vì lý do sức khỏe"


@pytest.fixture(scope="module")
def world(gradebook, service_databases):
    with school_and_another(gradebook, service_databases["gradebook"], "mien", students_per_class=4) as world:
        yield world


def _results(client, sample, class_id, student_id):
    return student_results(client, class_id, student_id, sample.homeroom_of(class_id), "teacher", "homeroom")


def test_the_year_leaves_an_exempt_subject_out_as_the_rules_cli_does_and_the_record_prints_mien(world):
    sample, client, _, engine = world
    class_id = sample.classes[0]["class_id"]
    whole_year, one_term = (s["student_id"] for s in sample.students_of(class_id)[:2])
    enter_year(client, sample, class_id)
    with client.as_("hieu-truong", "principal") as p:
        year = p.post(
            f"/classes/{class_id}/students/{whole_year}/exemptions",
            json={"subject_code": "gdtc", "period": "year", "reason": REASON},
        )
        assert year.status_code == 201, year.text
        # Marks entered before the decision stay stored, and the principal is told they no longer count.
        assert year.json()["marks_no_longer_counted"] == ["hk1", "hk2"]
        term = p.post(
            f"/classes/{class_id}/students/{one_term}/exemptions",
            json={"subject_code": "toan", "period": "hk1", "reason": "Quyết định số 16/QĐ-THCS: ốm dài ngày"},
        )
        assert term.status_code == 201, term.text
        # The same subject again, for a term the year's decision already covers: revoke that one first.
        overlap = p.post(
            f"/classes/{class_id}/students/{whole_year}/exemptions",
            json={"subject_code": "gdtc", "period": "hk2", "reason": REASON},
        )
        assert overlap.status_code == 409, overlap.text
        assert "Giáo dục thể chất" in overlap.json()["detail"]

    for student_id, exempt in ((whole_year, {"gdtc": ["hk1", "hk2"]}), (one_term, {"toan": ["hk1"]})):
        api = _results(client, sample, class_id, student_id)
        order = list(dict.fromkeys(key.split(".")[0] for key in api["averages"]))
        cli = evaluate(rules_cli_input(sample, class_id, student_id, order, exempt=exempt), explain=True)
        expected = {
            f"{row['code']}.{p}": str(row[p]) for row in cli["subjects"] for p in ("hk1", "hk2", "year")
        }
        assert api["averages"] == expected
        assert api["learning_result"] == cli["learning_result"]
        assert api["year"]["learning_result"] == cli["learning_result"]["year"]
        assert api["year"]["promotion"] == cli["promotion"]["outcome"]
        for key, why in api["explanations"].items():
            assert cli["explanations"].get(key) == why, key
    assert _results(client, sample, class_id, whole_year)["averages"]["gdtc.year"] == "Miễn"

    # A teacher can no longer enter the exempt term; the request's other rows are not saved either.
    with client.as_(sample.teacher_of(class_id, "toan"), "teacher") as t:
        refused = t.put(
            f"/classes/{class_id}/subjects/toan/terms/hk1/marks",
            json={"entries": [{**e, "final": "10"} for e in marks_for(sample, class_id, "toan", "hk1")]},
        )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "miễn học" in refused.json()["detail"]
    assert _results(client, sample, class_id, whole_year)["averages"]["toan.hk1"] != "10"

    with client.as_("hieu-truong", "principal") as p:
        for t in ("hk1", "hk2"):
            locked = p.post(f"/classes/{class_id}/terms/{t}/lock")
            assert locked.status_code == 201, locked.text  # "Miễn" is a year result: no gap
        late = p.post(
            f"/classes/{class_id}/students/{whole_year}/exemptions",
            json={"subject_code": "hdtn", "period": "hk2", "reason": REASON},
        )
        assert late.status_code == 409, late.text  # a locked term changes only by an amendment
        unrevocable = p.post(f"/exemptions/{term.json()['id']}/revoke", json={"reason": "Nhầm quyết định"})
        assert unrevocable.status_code == 409, unrevocable.text

    (locked_year,) = [
        b["data"]
        for b in outbox_bodies(engine, "gradebook.term.locked.v1")
        if b["data"]["class_id"] == class_id
    ][-1:]
    assert locked_year["term"] == "hk2"
    record = next(s for s in locked_year["snapshot"]["students"] if s["student_id"] == whole_year)
    gdtc = next(r for r in record["subjects"] if r["subject_code"] == "gdtc")
    assert gdtc["year"] == "Miễn"
    assert gdtc["hk1"]["average"] == gdtc["hk2"]["average"] == "Miễn"
    toan = next(
        r
        for r in next(s for s in locked_year["snapshot"]["students"] if s["student_id"] == one_term)[
            "subjects"
        ]
        if r["subject_code"] == "toan"
    )
    assert toan["hk1"]["average"] == "Miễn" and toan["year"] == toan["hk2"]["average"]

    audits = principal_decisions(engine, sample.school_id, "exemption.decide")
    assert len(audits) == 2
    decided = next(a for a in audits if year.json()["id"] in a["entity_id"])
    assert (decided["entity_type"], decided["reason"]) == ("exemption", REASON)
    assert decided["entity_id"] == (
        f"class/{class_id}/student/{whole_year}/gdtc/year/exemption/{year.json()['id']}"
    )


def test_only_the_principal_of_the_school_decides_and_another_schools_student_is_unknown(world):
    sample, client, other, _ = world
    class_id = sample.classes[0]["class_id"]
    student = sample.students_of(class_id)[2]["student_id"]
    body = {"subject_code": "gdtc", "period": "hk1", "reason": REASON}
    assert_only_the_principal_decides(
        client, sample, other, class_id, student, "exemptions", body, subject="gdtc"
    )
    other_student = other.students_of(other.classes[0]["class_id"])[0]["student_id"]
    with client.as_("hieu-truong", "principal") as p:
        listed = p.get(f"/classes/{class_id}/exemptions")
    assert listed.status_code == 200
    assert all(e["student_id"] != other_student for e in listed.json())


def test_bad_input_is_refused_in_vietnamese_and_a_revocation_is_audited(world, gradebook):
    sample, client, _, engine = world
    class_id = sample.classes[1]["class_id"]
    student = sample.students_of(class_id)[0]["student_id"]
    path = f"/classes/{class_id}/students/{student}/exemptions"
    with client.as_("hieu-truong", "principal") as p:
        period = p.post(path, json={"subject_code": "gdtc", "period": "hk3", "reason": REASON})
        assert period.status_code == 422, period.text
        assert period.headers["content-type"].startswith("application/problem+json")
        untaught = p.post(path, json={"subject_code": "tieng_viet", "period": "hk1", "reason": REASON})
        assert untaught.status_code == 422, untaught.text
        assert untaught.json()["detail"] == f"Lớp {sample.classes[1]['name']} không học môn “tieng_viet”."
        reasonless = p.post(path, json={"subject_code": "gdtc", "period": "hk1"})
        assert reasonless.status_code == 422, reasonless.text
        unknown = p.post("/exemptions/mh-khong-co/revoke", json={"reason": "Nhầm quyết định"})
        assert unknown.status_code == 404, unknown.text
        assert _list(client, sample, class_id) == []  # nothing was stored by the refusals

        decided = p.post(path, json={"subject_code": "gdtc", "period": "year", "reason": REASON})
        assert decided.status_code == 201, decided.text
        revoked = p.post(
            f"/exemptions/{decided.json()['id']}/revoke", json={"reason": "Học sinh đã khỏe lại"}
        )
        assert revoked.status_code == 200, revoked.text
        assert _list(client, sample, class_id) == []
        again = p.post(path, json={"subject_code": "gdtc", "period": "hk2", "reason": REASON})
        assert again.status_code == 201, again.text
    (revocation,) = [
        b["data"]
        for b in outbox_bodies(engine, "audit.recorded.v1")
        if b["data"]["action"] == "exemption.revoke" and decided.json()["id"] in b["data"]["entity_id"]
    ]
    assert (revocation["reason"], revocation["actor_role"]) == ("Học sinh đã khỏe lại", "principal")
    assert revocation["before_hash"] and revocation["after_hash"] is None

    # TT22 only: a primary class is refused with the reason (its pupils follow an individual education plan).
    primary = build(f"th-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=1, grade=4)
    primary_client = Client(gradebook, primary.school_id)
    load_school(primary_client, primary)
    pupil_class = primary.classes[0]["class_id"]
    pupil = primary.students_of(pupil_class)[0]["student_id"]
    with primary_client.as_("hieu-truong", "principal") as p:
        refused = p.post(
            f"/classes/{pupil_class}/students/{pupil}/exemptions",
            json={"subject_code": "gdtc", "period": "year", "reason": REASON},
        )
    assert refused.status_code == 422, refused.text
    assert "Thông tư 22" in refused.json()["detail"]


def _list(client, sample, class_id):
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        r = h.get(f"/classes/{class_id}/exemptions")
    assert r.status_code == 200, r.text
    return r.json()
