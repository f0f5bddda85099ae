"""Cutoffs on the real gateway: regular 30/6, supplementary 15/8; withdraw and replace before, refused after."""

from __future__ import annotations

import pytest

from tests.integration.gateway.support import (
    docs,
    next_version,
    primary_record,
    replace_record,
    set_day,
    submit,
    year_record,
)

pytestmark = pytest.mark.integration


def test_a_regular_record_is_accepted_up_to_30_june_and_refused_from_1_july(gateway):
    with gateway.client("s1") as school:
        set_day(gateway, "2026-06-30")
        assert submit(school, docs(year_record())).status_code == 201
        set_day(gateway, "2026-07-01")
        late = submit(school, docs(year_record()))
    assert (late.status_code, late.json()["reason"]) == (409, "cutoff_passed")
    assert "30/06/2026" in late.json()["detail"] and late.json()["cutoff"] == "2026-06-30"


def test_a_supplementary_record_of_grade_three_is_accepted_until_15_august(gateway):
    with gateway.client("s1") as school:
        set_day(gateway, "2026-08-15")
        ok = submit(school, docs(primary_record(3)), assessment="supplementary")
        regular_late = submit(school, docs(primary_record(3)), assessment="regular")
        set_day(gateway, "2026-08-16")
        late = submit(school, docs(primary_record(3)), assessment="supplementary")
    assert ok.status_code == 201 and ok.json()["cutoff"] == "2026-08-15"
    assert regular_late.json()["reason"] == "cutoff_passed"
    assert (late.status_code, late.json()["reason"]) == (409, "cutoff_passed")
    assert "15/08/2026" in late.json()["detail"]


def test_a_record_can_be_withdrawn_before_the_cutoff_and_withdrawing_again_answers_the_same(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        withdrawn = school.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "Nhầm học sinh"})
        again = school.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "Nhầm học sinh"})
        no_reason = school.post(f"/api/v1/records/{record_id}/withdraw", json={})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawn_at"].startswith("2026-05-20")
    assert again.json() == withdrawn.json()
    assert no_reason.json()["reason"] == "body_invalid"


def test_a_withdrawn_year_record_can_be_submitted_again_with_a_new_version(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        school.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "Sai lớp"}).raise_for_status()
        same = submit(school, d)
        newer = submit(school, next_version(d))
        replace_withdrawn = replace_record(school, record_id, next_version(next_version(d)), "x")
    assert same.json()["reason"] == "duplicate_record"
    assert newer.status_code == 201 and newer.json()["version"] == 2
    assert replace_withdrawn.json()["reason"] == "not_current"


def test_a_record_can_be_replaced_before_the_cutoff(gateway):
    d = docs(year_record())
    v2 = next_version(d, full_name="Phạm Thị Ngọc Anh")
    with gateway.client("s1") as school:
        first = submit(school, d).json()
        set_day(gateway, "2026-06-03")
        second = replace_record(school, first["id"], v2, "Sửa họ tên")
        listed = school.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()[
            "items"
        ]
        replace_old_again = replace_record(school, first["id"], next_version(v2), "again")
    assert second.status_code == 201, second.text
    assert (second.json()["version"], second.json()["replaces_id"], second.json()["status"]) == (
        2,
        first["id"],
        "current",
    )
    assert [(r["version"], r["status"]) for r in listed] == [(1, "replaced"), (2, "current")]
    assert listed[0]["replaced_at"].startswith("2026-06-03")
    assert replace_old_again.json()["reason"] == "not_current"


def test_a_replacement_must_be_the_same_year_record_with_a_higher_version(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        other_record = replace_record(school, record_id, docs(year_record()), "x")
        same_version = replace_record(school, record_id, d, "x")
        other_school = replace_record(school, record_id, next_version(d, school_id="s9"), "x")
        no_key = school.post(f"/api/v1/records/{record_id}/replace", json=next_version(d).body(reason="x"))
        supplementary = school.post(
            f"/api/v1/records/{record_id}/replace",
            json=next_version(d).body("supplementary", reason="x"),
            headers={"Idempotency-Key": "sup"},
        )
    assert other_record.json()["reason"] == same_version.json()["reason"] == "identity_mismatch"
    assert other_school.json()["reason"] == "wrong_school"
    assert no_key.json()["reason"] == "idempotency_key_missing"
    assert supplementary.json()["reason"] == "assessment_mismatch"


def test_a_replacement_is_idempotent_under_its_key(gateway):
    d = docs(year_record())
    v2 = next_version(d)
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        first = replace_record(school, record_id, v2, "Sửa điểm", key="rep-1")
        again = replace_record(school, record_id, v2, "Sửa điểm", key="rep-1")
        other_reason = replace_record(school, record_id, v2, "Lý do khác", key="rep-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert other_reason.status_code == 422 and other_reason.json()["reason"] == "idempotency_key_reused"


def test_after_the_cutoff_the_current_version_is_effective_and_never_changes(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        set_day(gateway, "2026-07-01")
        withdraw = school.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "Muộn"})
        replaced = replace_record(school, record_id, next_version(d), "Muộn")
        resubmitted = submit(school, next_version(d))
        set_day(gateway, "2027-03-01")
        later = replace_record(school, record_id, next_version(d), "Rất muộn")
        listed = school.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()[
            "items"
        ]
        pdf = school.get(f"/api/v1/records/{record_id}/pdf")
        xml = school.get(f"/api/v1/records/{record_id}/xml")
    for refused in (withdraw, replaced, later):
        assert (refused.status_code, refused.json()["reason"]) == (409, "cutoff_passed")
        assert "30/06/2026" in refused.json()["detail"]
    assert "thu hồi" in withdraw.json()["detail"] and "thay thế" in replaced.json()["detail"]
    assert resubmitted.json()["reason"] == "cutoff_passed"
    assert [(r["id"], r["version"], r["status"]) for r in listed] == [(record_id, 1, "effective")]
    assert pdf.content == d.pdf and xml.content == d.xml


def test_the_cutoff_days_are_configuration(gateway, strict_gateway):
    """The strict gateway shares the database but ends regular changes on 31/5 (GATEWAY_CUTOFF_REGULAR=05-31)."""
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
    with strict_gateway.admin() as admin:
        admin.post("/_admin/clock", json={"today": "2026-06-10"}).raise_for_status()
    with strict_gateway.client("s1") as school:
        refused = school.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "x"})
        listed = school.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()
    assert refused.json()["reason"] == "cutoff_passed" and "31/05/2026" in refused.json()["detail"]
    assert listed["items"][0]["status"] == "effective" and listed["items"][0]["cutoff"] == "2026-05-31"


def test_the_clock_takes_a_fixed_day_or_an_offset_and_needs_the_admin_token(gateway):
    with gateway.admin() as admin:
        fixed = admin.post("/_admin/clock", json={"today": "2026-06-29", "offset_days": 2}).json()
        real = admin.post("/_admin/clock", json={}).json()
    assert fixed["today"] == "2026-07-01" and fixed["fixed_day"] == "2026-06-29"
    assert real["fixed_day"] is None
    with gateway.client("s1", base_url=gateway.admin_url) as school:
        assert school.post("/_admin/clock", json={"today": "2030-01-01"}).status_code == 401
