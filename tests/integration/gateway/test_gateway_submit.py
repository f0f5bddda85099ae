"""Submitting year records to the real gateway process: acceptance, idempotency and every rejection reason."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import uuid
from dataclasses import replace

import httpx
import pytest

from services.runtime import http_client
from tests.integration.gateway.support import (
    ROOT,
    SECRET,
    docs,
    next_version,
    primary_record,
    sha256,
    submit,
    year_record,
)

pytestmark = pytest.mark.integration


def stats_of(gateway, year_record_id: str) -> dict:
    with gateway.admin() as admin:
        return admin.get("/_admin/stats", params={"year_record_id": year_record_id}).json()["year_records"][
            year_record_id
        ]


def test_an_accepted_record_is_filed_under_the_identity_read_from_its_xml(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        response = submit(school, d, key="k-accept-" + d.record.year_record_id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["year_record_id"] == d.record.year_record_id
    assert body["transcript_id"] == d.record.transcript_id
    assert body["lookup_code"] == d.record.lookup_code
    assert (body["version"], body["status"], body["school_year"], body["grade"]) == (
        1,
        "current",
        "2025-2026",
        8,
    )
    assert body["pdf_sha256"] == sha256(d.pdf) and body["xml_sha256"] == sha256(d.xml)
    assert body["idempotency_key"] == "k-accept-" + d.record.year_record_id
    assert body["cutoff"] == "2026-06-30"


def test_the_same_key_and_body_replays_the_original_response_without_a_second_record(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        first = submit(school, d, key="same-key")
        again = submit(school, d, key="same-key")
        listed = school.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(listed["items"]) == 1
    assert stats_of(gateway, d.record.year_record_id) | {"versions": None} == {
        "accepted": 1,
        "replayed": 1,
        "rejected": 0,
        "versions": None,
    }


def test_the_same_key_with_another_body_is_refused_with_422(gateway):
    d, other = docs(year_record()), docs(year_record())
    with gateway.client("s1") as school:
        assert submit(school, d, key="reused-key").status_code == 201
        refused = submit(school, other, key="reused-key")
        # Same documents, other assessment: still another body.
        also = school.post(
            "/api/v1/records", json=d.body("supplementary"), headers={"Idempotency-Key": "reused-key"}
        )
        listed = school.get("/api/v1/records", params={"year_record_id": other.record.year_record_id}).json()
    assert refused.status_code == also.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "idempotency_key_reused"
    assert "Idempotency-Key" in refused.json()["detail"]
    assert listed["items"] == []


def test_keys_belong_to_one_school(gateway):
    """School B using school A's key string is a different key: no replay of A's response to B."""
    a = docs(year_record(school_id="key-a"))
    b = docs(year_record(school_id="key-b"))
    with gateway.client("key-a") as school_a, gateway.client("key-b") as school_b:
        assert submit(school_a, a, key="shared").status_code == 201
        mine = submit(school_b, b, key="shared")
    assert mine.status_code == 201 and mine.json()["year_record_id"] == b.record.year_record_id


def test_a_submission_without_idempotency_key_is_refused(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        response = school.post("/api/v1/records", json=d.body())
    assert response.status_code == 400 and response.json()["reason"] == "idempotency_key_missing"


def problem_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["type"].endswith("/" + problem["reason"])
    return problem


def test_xml_that_breaks_the_xsd_is_refused_as_xsd_invalid(gateway):
    d = docs(year_record())
    broken = d.xml.replace(b"<Grade>8</Grade>", "<Grade>tám</Grade>".encode())
    body = d.body() | {"xml": base64.b64encode(broken).decode()}
    with gateway.client("s1") as school:
        response = school.post("/api/v1/records", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    problem = problem_of(response)
    assert (response.status_code, problem["reason"]) == (422, "xsd_invalid")
    assert "lược đồ" in problem["detail"] and problem["errors"]


def test_a_pdf_carrying_another_xml_is_refused_as_xml_mismatch(gateway):
    d, other = docs(year_record()), docs(year_record())
    body = d.body() | {"pdf": base64.b64encode(other.pdf).decode()}
    with gateway.client("s1") as school:
        response = school.post("/api/v1/records", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert (response.status_code, problem_of(response)["reason"]) == (422, "xml_mismatch")
    assert "hocba.xml" in response.json()["detail"]


def test_a_file_that_is_not_a_pdf_is_refused_as_pdf_invalid(gateway):
    d = docs(year_record())
    body = d.body() | {"pdf": base64.b64encode(b"%PDF-1.7 this is not really a pdf").decode()}
    with gateway.client("s1") as school:
        response = school.post("/api/v1/records", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert (response.status_code, problem_of(response)["reason"]) == (422, "pdf_invalid")


def test_a_record_of_another_school_is_refused_as_wrong_school(gateway):
    d = docs(year_record(school_id="s-other"))
    with gateway.client("s1") as school:
        response = submit(school, d)
    problem = problem_of(response)
    assert (response.status_code, problem["reason"]) == (403, "wrong_school")
    assert "s-other" in problem["detail"]


def test_a_refusing_verifier_yields_signature_invalid_with_its_reasons(strict_gateway):
    d = docs(year_record())
    with strict_gateway.client("s1") as school:
        response = submit(school, d)
        listed = school.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()
    problem = problem_of(response)
    assert (response.status_code, problem["reason"]) == (422, "signature_invalid")
    assert problem["reasons"] and "seal_missing" in problem["reasons"][0]
    assert "Chữ ký số" in problem["detail"]
    assert listed["items"] == []


def test_the_same_version_under_a_new_key_is_refused_as_duplicate_record(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        first = submit(school, d)
        again = submit(school, d)
    problem = problem_of(again)
    assert (again.status_code, problem["reason"]) == (409, "duplicate_record")
    assert problem["record_id"] == first.json()["id"]
    assert stats_of(gateway, d.record.year_record_id)["accepted"] == 1


def test_a_new_version_sent_as_a_submission_must_be_a_replacement(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        first = submit(school, d)
        response = submit(school, next_version(d))
    problem = problem_of(response)
    assert (response.status_code, problem["reason"]) == (409, "replace_required")
    assert problem["record_id"] == first.json()["id"]


def test_the_supplementary_path_is_refused_in_grade_five_and_taken_for_a_secondary_re_test(gateway):
    """Grades 1–4 (summer assessment) and secondary re-tests or summer training go on the 15 August path (rules.md,
    project decision after seed 003); grade 5 has none (seed 004 names grades 1–4)."""
    with gateway.client("s1") as school:
        grade_five = submit(school, docs(primary_record(grade=5)), assessment="supplementary")
        re_test = submit(school, docs(year_record()), assessment="supplementary")
    assert (grade_five.status_code, problem_of(grade_five)["reason"]) == (422, "supplementary_not_allowed")
    assert re_test.status_code == 201 and re_test.json()["cutoff"] == "2026-08-15", re_test.text


def test_a_body_that_is_not_base64_json_is_refused_as_body_invalid(gateway):
    with gateway.client("s1") as school:
        bad64 = school.post(
            "/api/v1/records",
            json={"assessment": "regular", "pdf": "***", "xml": "***"},
            headers={"Idempotency-Key": "x"},
        )
        missing = school.post("/api/v1/records", json={"pdf": ""}, headers={"Idempotency-Key": "y"})
        wrong = school.post(
            "/api/v1/records", json=docs(primary_record()).body("later"), headers={"Idempotency-Key": "z"}
        )
    for response in (bad64, missing, wrong):
        assert (response.status_code, problem_of(response)["reason"]) == (422, "body_invalid")


def test_requests_without_a_valid_school_token_are_unauthorized(gateway):
    d = docs(year_record())
    forged = gateway.token("s1")[:-2] + "00"
    with gateway.client() as anonymous:
        for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": "Bearer gw1.czE.abc"}):
            response = anonymous.post(
                "/api/v1/records", json=d.body(), headers={"Idempotency-Key": "k", **headers}
            )
            assert (response.status_code, problem_of(response)["reason"]) == (401, "unauthorized")
        assert anonymous.get("/api/v1/records").status_code == 401


def test_the_token_command_mints_what_the_gateway_accepts(gateway):
    out = subprocess.run(
        [sys.executable, "-m", "sandbox.gateway", "token", "--school", "thcs-cli"],
        cwd=ROOT,
        env={"GATEWAY_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    with http_client.client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {out.stdout.strip()}"}
    ) as school:
        assert school.get("/api/v1/records").status_code == 200


def test_racing_submissions_of_one_version_under_different_keys_accept_exactly_one(gateway):
    d = docs(year_record())
    outcomes: list[int] = []

    def send() -> None:
        with gateway.client("s1") as school:
            outcomes.append(submit(school, d).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [201] + [409] * 5
    assert stats_of(gateway, d.record.year_record_id)["accepted"] == 1


def test_racing_retries_under_one_key_accept_once_and_replay_the_rest(gateway):
    d = docs(replace(year_record(), version=1))
    bodies: list[dict] = []

    def send() -> None:
        with gateway.client("s1") as school:
            response = submit(school, d, key="race-" + d.record.year_record_id)
            assert response.status_code == 201, response.text
            bodies.append(response.json())

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({b["id"] for b in bodies}) == 1
    counts = stats_of(gateway, d.record.year_record_id)
    assert (counts["accepted"], counts["replayed"]) == (1, 4)


def test_two_versions_of_a_new_year_record_sent_at_once_never_both_become_current(gateway):
    v1 = docs(year_record())
    v2 = next_version(v1)
    outcomes: dict[int, httpx.Response] = {}

    def send(d) -> None:
        with gateway.client("s1") as school:
            outcomes[d.record.version] = submit(school, d)

    threads = [threading.Thread(target=send, args=(d,)) for d in (v1, v2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [v for v, r in outcomes.items() if r.status_code == 201]
    assert len(accepted) == 1
    refused = outcomes[3 - accepted[0]].json()["reason"]
    assert refused in ("duplicate_record", "replace_required")
    with gateway.client("s1") as school:
        items = school.get("/api/v1/records", params={"year_record_id": v1.record.year_record_id}).json()[
            "items"
        ]
    assert [r["status"] for r in items] == ["current"]
