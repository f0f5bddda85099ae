"""Awards (khen thưởng) through the API: the principal gives a title the year's results allow (TT22 art. 15, TT27
art. 13), refused with the reason otherwise; audited; carried by the year's lock; nobody else decides, no other
school's student; after the lock the year is sealed."""

import uuid

import pytest
from sqlalchemy import create_engine

from sandbox.sample_school import COMPETENCIES, PRIMARY_TESTED, QUALITIES, build
from services.gradebook.domain.award import TITLES
from tests.integration.gradebook.support import (
    Client,
    assert_only_the_principal_decides,
    enter_chosen_year,
    load_school,
    outbox_bodies,
    principal_decisions,
    school_and_another,
    term_entry,
)

pytestmark = pytest.mark.integration

REASON = "Quyết định số 21/QĐ-THCS ngày 25/5/2026 của hiệu trưởng"


def _enter(client, sample, class_id, chosen: dict[str, tuple[str, str]]):
    """``chosen``: student → (every subject's score, both terms' conduct); comment subjects all Đ."""
    marks = {
        sid: {
            code: {term: term_entry(code, periods, score) for term in ("hk1", "hk2")}
            for code, periods in sample.subjects
        }
        for sid, (score, _) in chosen.items()
    }
    homeroom = {
        sid: {t: {"conduct": conduct, "absences": 0} for t in ("hk1", "hk2")}
        for sid, (_, conduct) in chosen.items()
    }
    enter_chosen_year(client, sample, class_id, marks, homeroom)


@pytest.fixture(scope="module")
def world(gradebook, service_databases):
    with school_and_another(gradebook, service_databases["gradebook"], "kt", students_per_class=3) as world:
        yield world


def _awards(client, sample, class_id):
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        r = h.get(f"/classes/{class_id}/awards")
    assert r.status_code == 200, r.text
    return r.json()


def test_the_principal_gives_the_titles_the_year_allows_and_the_years_lock_carries_them(world):
    sample, client, _, engine = world
    class_id = sample.classes[0]["class_id"]
    excellent, good, fair_conduct = (s["student_id"] for s in sample.students_of(class_id))
    _enter(
        client,
        sample,
        class_id,
        {excellent: ("9.5", "Tốt"), good: ("8", "Tốt"), fair_conduct: ("9.5", "Khá")},
    )
    path = f"/classes/{class_id}/students/{{}}/awards"
    with client.as_("hieu-truong", "principal") as p:
        given = p.post(path.format(excellent), json={"kind": "xuat_sac", "reason": REASON})
        assert given.status_code == 201, given.text
        assert given.json()["title"] == "Học sinh Xuất sắc"
        # Learning and conduct Tốt but no subject at 9.0: Giỏi, not Xuất sắc (art. 15), and the reason says so.
        too_high = p.post(path.format(good), json={"kind": "xuat_sac", "reason": REASON})
        assert too_high.status_code == 422, too_high.text
        assert too_high.headers["content-type"].startswith("application/problem+json")
        assert too_high.json()["detail"] == (
            "Chưa đủ điều kiện Học sinh Xuất sắc (Điều 15 Thông tư 22): rèn luyện cả năm Tốt, học tập cả năm "
            "Tốt; kết quả cả năm cho phép Học sinh Giỏi; cần rèn luyện Tốt, học tập Tốt và ít nhất 6 môn có "
            "ĐTBmcn từ 9,0 trở lên."
        )
        assert p.post(path.format(good), json={"kind": "gioi", "reason": REASON}).status_code == 201
        # Conduct Khá: no title at all, whatever the scores.
        conduct = p.post(path.format(fair_conduct), json={"kind": "gioi", "reason": REASON})
        assert conduct.status_code == 422, conduct.text
        assert "rèn luyện cả năm Khá" in conduct.json()["detail"]
        # TT27's title does not exist in a secondary school.
        primary_title = p.post(path.format(fair_conduct), json={"kind": "tieu_bieu", "reason": REASON})
        assert primary_title.status_code == 422, primary_title.text
        assert "không có trong Điều 15 Thông tư 22" in primary_title.json()["detail"]
        # One title per student and year: the principal revokes the first before giving another.
        twice = p.post(path.format(excellent), json={"kind": "gioi", "reason": REASON})
        assert twice.status_code == 409, twice.text
        assert "Học sinh Xuất sắc" in twice.json()["detail"]
    assert {(a["student_id"], a["kind"]) for a in _awards(client, sample, class_id)} == {
        (excellent, "xuat_sac"),
        (good, "gioi"),
    }

    with client.as_("hieu-truong", "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
        # The year is sealed: the principal is told how to change it.
        late = p.post(path.format(fair_conduct), json={"kind": "gioi", "reason": REASON})
        assert late.status_code == 409, late.text
        assert "mở khóa học kỳ II" in late.json()["detail"]
        kept = p.post(f"/awards/{given.json()['id']}/revoke", json={"reason": "Nhầm quyết định"})
        assert kept.status_code == 409, kept.text

    (year,) = [
        b["data"]
        for b in outbox_bodies(engine, "gradebook.term.locked.v1")
        if b["data"]["class_id"] == class_id and b["data"]["term"] == "hk2"
    ]
    by_student = {s["student_id"]: s for s in year["snapshot"]["students"]}
    assert [a["title"] for a in by_student[excellent]["awards"]] == ["Học sinh Xuất sắc"]
    assert [a["title"] for a in by_student[good]["awards"]] == ["Học sinh Giỏi"]
    assert by_student[fair_conduct]["awards"] == []
    assert by_student[excellent]["awards"][0]["decided_by"] == "hieu-truong"

    audits = principal_decisions(engine, sample.school_id, "award.decide")
    assert len(audits) == 2  # the refusals left nothing
    decided = next(a for a in audits if given.json()["id"] in a["entity_id"])
    assert (decided["entity_type"], decided["reason"]) == ("award", REASON)
    assert decided["entity_id"] == f"class/{class_id}/student/{excellent}/award/{given.json()['id']}"


def test_only_the_principal_of_the_school_decides_and_another_schools_student_is_unknown(world):
    sample, client, other, _ = world
    class_id = sample.classes[1]["class_id"]
    student = sample.students_of(class_id)[0]["student_id"]
    body = {"kind": "gioi", "reason": REASON}
    path = f"/classes/{class_id}/students/{student}/awards"
    assert_only_the_principal_decides(
        client, sample, other, class_id, student, "awards", body, subject="toan"
    )
    with client.as_("hieu-truong", "principal") as p:
        # Bad input, in Vietnamese problem+json, and a year with no results yet: nothing stored.
        kind = p.post(path, json={"kind": "hoc_sinh_tien_tien", "reason": REASON})
        assert kind.status_code == 422 and kind.headers["content-type"].startswith("application/problem+json")
        assert p.post(path, json={"kind": "gioi"}).status_code == 422
        early = p.post(path, json=body)
        assert early.status_code == 422, early.text
        assert early.json()["detail"] == (
            "Học sinh chưa có đủ kết quả rèn luyện và học tập cả năm: chưa thể khen Học sinh Giỏi."
        )
        unknown = p.post("/awards/kt-khong-co/revoke", json={"reason": "Nhầm quyết định"})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["detail"] == "Không tìm thấy quyết định khen thưởng này."
    assert _awards(client, sample, class_id) == []


def test_a_revocation_is_audited_and_the_lock_refuses_an_award_the_final_marks_no_longer_allow(
    gradebook, service_databases
):
    # A school of its own: its school-wide lock must find this class alone.
    sample = build(f"kt-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    engine = create_engine(service_databases["gradebook"])
    class_id = sample.classes[0]["class_id"]
    students = [s["student_id"] for s in sample.students_of(class_id)]
    _enter(client, sample, class_id, dict.fromkeys(students, ("8", "Tốt")))
    pupil = students[0]
    path = f"/classes/{class_id}/students/{pupil}/awards"
    with client.as_("hieu-truong", "principal") as p:
        first = p.post(path, json={"kind": "gioi", "reason": REASON})
        assert first.status_code == 201, first.text
        revoked = p.post(
            f"/awards/{first.json()['id']}/revoke", json={"reason": "Quyết định ghi nhầm học sinh"}
        )
        assert revoked.status_code == 200, revoked.text
        assert _awards(client, sample, class_id) == []
        again = p.post(path, json={"kind": "gioi", "reason": REASON})
        assert again.status_code == 201, again.text
    (revocation,) = [
        b["data"]
        for b in outbox_bodies(engine, "audit.recorded.v1")
        if b["data"]["action"] == "award.revoke" and first.json()["id"] in b["data"]["entity_id"]
    ]
    assert (revocation["reason"], revocation["actor_role"]) == ("Quyết định ghi nhầm học sinh", "principal")
    assert revocation["before_hash"] and revocation["after_hash"] is None

    # The Toán teacher lowers the pupil's term II after the award: learning is no longer Tốt, so the year's lock
    # refuses, naming the pupil and the reason, until the principal revokes the award.
    low = term_entry("toan", dict(sample.subjects)["toan"], "5")
    with client.as_(sample.teacher_of(class_id, "toan"), "teacher") as t:
        t.put(
            f"/classes/{class_id}/subjects/toan/terms/hk2/marks",
            json={"entries": [{"student_id": pupil, **low}]},
        ).raise_for_status()
    name = next(s["full_name"] for s in sample.students_of(class_id) if s["student_id"] == pupil)
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/classes/{class_id}/terms/hk1/lock").raise_for_status()
        # The school-wide lock locks the other classes and lists this one with the award to revoke.
        school_wide = p.post(f"/schools/{sample.school_id}/terms/hk2/lock")
        assert school_wide.status_code == 200, school_wide.text
        assert school_wide.json()["locked"] == []
        (unfit,) = school_wide.json()["awards_unfit"]
        assert unfit["class_id"] == class_id
        assert [(a["student"], a["title"]) for a in unfit["awards_unfit"]] == [(name, "Học sinh Giỏi")]
        refused = p.post(f"/classes/{class_id}/terms/hk2/lock")
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert detail.startswith("Chưa thể khóa học kỳ II: khen thưởng không còn phù hợp kết quả cả năm")
        assert f"{name}: Học sinh Giỏi — Chưa đủ điều kiện Học sinh Giỏi" in detail
        p.post(
            f"/awards/{again.json()['id']}/revoke", json={"reason": "Kết quả cả năm thay đổi"}
        ).raise_for_status()
        p.post(f"/classes/{class_id}/terms/hk2/lock").raise_for_status()
    engine.dispose()


def test_a_primary_pupil_is_given_the_title_their_year_result_allows(gradebook):
    """TT27 art. 13: Xuất sắc only for Hoàn thành xuất sắc, Tiêu biểu only for Hoàn thành tốt (its other grounds are
    the principal's to state in the reason); Giỏi is TT22's."""
    primary = build(f"th-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3, grade=4)
    client = Client(gradebook, primary.school_id)
    load_school(client, primary)
    class_id = primary.classes[0]["class_id"]
    pupils = [s["student_id"] for s in primary.students_of(class_id)]
    # (level of every subject, end-of-year test score, every quality and competency): art. 9 §2's table.
    chosen = dict(zip(pupils, (("T", 9, "T"), ("T", 8, "T"), ("H", 6, "Đ")), strict=True))
    marks = {
        sid: {
            code: {
                term: {"level": level} | ({"test": test} if code in PRIMARY_TESTED else {})
                for term in ("hk1", "hk2")
            }
            for code, _ in primary.subjects
        }
        for sid, (level, test, _) in chosen.items()
    }
    homeroom = {
        sid: {
            t: {
                "qualities": dict.fromkeys(QUALITIES, trait),
                "competencies": dict.fromkeys(COMPETENCIES, trait),
            }
            for t in ("hk1", "hk2")
        }
        for sid, (_, _, trait) in chosen.items()
    }
    enter_chosen_year(client, primary, class_id, marks, homeroom)
    expected = {"xuat_sac": "Hoàn thành xuất sắc", "tieu_bieu": "Hoàn thành tốt"}
    answers = {}
    with client.as_("hieu-truong", "principal") as p:
        for sid, result in zip(pupils, ("Hoàn thành xuất sắc", "Hoàn thành tốt", "Hoàn thành"), strict=True):
            path = f"/classes/{class_id}/students/{sid}/awards"
            tt22_title = p.post(path, json={"kind": "gioi", "reason": REASON})
            assert (
                tt22_title.status_code == 422
                and "không có trong Điều 13 Thông tư 27" in tt22_title.json()["detail"]
            )
            for kind, needed in expected.items():
                answer = p.post(
                    path, json={"kind": kind, "reason": f"{REASON}; tiến bộ rõ rệt, lớp công nhận"}
                )
                answers[(result, kind)] = answer.status_code
                if answer.status_code == 422:
                    assert answer.json()["detail"] == (
                        f"Chưa đủ điều kiện {TITLES[kind]} (Điều 13 Thông tư 27): kết quả giáo dục cả năm "
                        f"{result}, cần {needed}."
                    )
    assert answers == {
        ("Hoàn thành xuất sắc", "xuat_sac"): 201,
        ("Hoàn thành xuất sắc", "tieu_bieu"): 409,  # already Học sinh Xuất sắc: one title a year
        ("Hoàn thành tốt", "xuat_sac"): 422,
        ("Hoàn thành tốt", "tieu_bieu"): 201,
        ("Hoàn thành", "xuat_sac"): 422,
        ("Hoàn thành", "tieu_bieu"): 422,
    }


def test_an_approved_amendment_that_takes_the_title_away_revokes_the_award_audited(
    gradebook, service_databases
):
    """After the year's lock only an amendment changes results: if the approved one leaves the student without the
    results a title needs, the award goes with it (audited with the amendment) and the new snapshot has none."""
    sample = build(f"kt-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=2)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    engine = create_engine(service_databases["gradebook"])
    class_id = sample.classes[0]["class_id"]
    pupil, kept = (s["student_id"] for s in sample.students_of(class_id))
    _enter(client, sample, class_id, dict.fromkeys((pupil, kept), ("9.5", "Tốt")))
    with client.as_("hieu-truong", "principal") as p:
        given = {
            sid: p.post(
                f"/classes/{class_id}/students/{sid}/awards", json={"kind": "xuat_sac", "reason": REASON}
            ).json()["id"]
            for sid in (pupil, kept)
        }
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        proposed = h.post(
            f"/classes/{class_id}/terms/hk2/amendments",
            json={"student_id": pupil, "after": {"conduct": "Đạt"}, "reason": "Vi phạm nội quy bị bỏ sót"},
        )
        assert proposed.status_code == 201, proposed.text
    amendment_id = proposed.json()["amendment_id"]
    with client.as_("hieu-truong", "principal") as p:
        approved = p.post(f"/amendments/{amendment_id}/decision", json={"approve": True})
    assert approved.status_code == 200, approved.text
    assert approved.json()["awards_revoked"] == ["Học sinh Xuất sắc"]
    assert [a["student_id"] for a in _awards(client, sample, class_id)] == [kept]

    (applied,) = [
        b["data"]
        for b in outbox_bodies(engine, "gradebook.amendment.applied.v1")
        if b["data"]["amendment_id"] == amendment_id
    ]
    awards = {s["student_id"]: s["awards"] for s in applied["snapshot"]["students"]}
    assert awards[pupil] == [] and [a["title"] for a in awards[kept]] == ["Học sinh Xuất sắc"]
    (revocation,) = [
        b["data"]
        for b in outbox_bodies(engine, "audit.recorded.v1")
        if b["data"]["action"] == "award.revoke" and given[pupil] in b["data"]["entity_id"]
    ]
    assert revocation["reason"].startswith(f"Biên bản điều chỉnh {amendment_id} được phê duyệt: ")
    assert "rèn luyện cả năm" in revocation["reason"] and revocation["actor_id"] == "hieu-truong"
    engine.dispose()
