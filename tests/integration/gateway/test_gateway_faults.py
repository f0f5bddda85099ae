"""Every fault mode, switched at run time and observed by a plain httpx client, and the gateway's own counts."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from services.runtime import http_client
from tests.integration.gateway.support import docs, submit, year_record

pytestmark = pytest.mark.integration


def faults(gateway, **config) -> dict:
    with gateway.admin() as admin:
        response = admin.post("/_admin/faults", json=config)
        assert response.status_code == 200, response.text
        return response.json()


def listed(gateway, school_id: str, year_record_id: str) -> list[dict]:
    with gateway.client(school_id) as school:
        return school.get("/api/v1/records", params={"year_record_id": year_record_id}).json()["items"]


def counts(gateway, year_record_id: str) -> dict:
    with gateway.admin() as admin:
        body = admin.get("/_admin/stats", params={"year_record_id": year_record_id}).json()
    return body["year_records"].get(year_record_id, {})


def test_added_latency_delays_api_requests_only(gateway):
    before = faults(gateway, latency_ms=400, latency_jitter_ms=100)["injected"].get("latency", 0)
    with gateway.client("s1") as school:
        started = time.monotonic()
        assert school.get("/api/v1/records").status_code == 200
        slow = time.monotonic() - started
        assert school.get("/healthz").status_code == 200
    # A lower bound only (a loaded machine adds time, never removes it); which requests were delayed is the
    # gateway's own count: the API request, not /healthz.
    assert slow >= 0.4
    assert faults(gateway)["injected"]["latency"] - before == 1


def test_injected_5xx_happen_before_handling_so_nothing_is_stored_and_the_key_is_not_spent(gateway):
    d = docs(year_record())
    faults(gateway, error_rate=1.0)
    with gateway.client("s1") as school:
        failed = [submit(school, d, key="err-" + d.record.year_record_id) for _ in range(3)]
        faults(gateway)
        assert listed(gateway, "s1", d.record.year_record_id) == []
        retried = submit(school, d, key="err-" + d.record.year_record_id)
    for response in failed:
        assert response.status_code in (500, 502, 503)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == "injected_error"
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert counts(gateway, d.record.year_record_id)["accepted"] == 1


def test_a_dropped_connection_gets_no_response_and_stores_nothing(gateway):
    d = docs(year_record())
    faults(gateway, drop_rate=1.0)
    with gateway.client("s1") as school, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        submit(school, d)
    faults(gateway)
    assert listed(gateway, "s1", d.record.year_record_id) == []


def test_accept_then_timeout_stores_the_record_and_a_retry_with_the_key_replays_it(gateway):
    d = docs(year_record())
    key = "timeout-" + d.record.year_record_id
    faults(gateway, accept_timeout_rate=1.0, accept_timeout_mode="hang", hang_seconds=5)
    with gateway.client("s1", timeout=1.0) as school, pytest.raises(httpx.ReadTimeout):
        submit(school, d, key=key)
    faults(gateway)
    stored = listed(gateway, "s1", d.record.year_record_id)
    assert [(r["version"], r["status"], r["idempotency_key"]) for r in stored] == [(1, "current", key)]
    with gateway.client("s1") as school:
        retried = submit(school, d, key=key)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json()["id"] == stored[0]["id"]
    got = counts(gateway, d.record.year_record_id)
    assert (got["accepted"], got["replayed"]) == (1, 1)


def test_accept_then_drop_stores_the_record_and_closes_the_connection(gateway):
    d = docs(year_record())
    faults(gateway, accept_timeout_rate=1.0, accept_timeout_mode="drop")
    with gateway.client("s1") as school, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        submit(school, d)
    # Reads are not POSTs: they answer normally while the fault is on.
    assert len(listed(gateway, "s1", d.record.year_record_id)) == 1
    assert faults(gateway)["injected"]["accept_timeout"] >= 1


def test_the_next_submissions_fail_as_planned_whenever_they_arrive_and_reads_never_use_them_up(gateway):
    """Counted by work, not time: the chaos test arms these before any record exists and knows each will meet one."""
    d = docs(year_record())
    key = "planned-" + d.record.year_record_id
    armed = faults(gateway, fail_next=["error", "drop", "accept_timeout"], accept_timeout_mode="drop")
    before = armed["injected"]
    with gateway.client("s1") as school:
        assert school.get("/api/v1/records").status_code == 200  # a read: nothing planned is spent
        assert faults_left(gateway) == 3
        errored = submit(school, d, key=key)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            submit(school, d, key=key)
        assert listed(gateway, "s1", d.record.year_record_id) == []  # neither was stored
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            submit(school, d, key=key)  # stored, then the connection closed unanswered
        replayed = submit(school, d, key=key)
    assert errored.status_code in (500, 502, 503) and errored.json()["reason"] == "injected_error"
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert faults_left(gateway) == 0
    after = faults(gateway)["injected"]
    assert {k: after.get(k, 0) - before.get(k, 0) for k in ("error", "drop", "accept_timeout")} == {
        "error": 1,
        "drop": 1,
        "accept_timeout": 1,
    }
    assert counts(gateway, d.record.year_record_id)["accepted"] == 1


def faults_left(gateway) -> int:
    with gateway.admin() as admin:
        return int(admin.get("/_admin/faults").json()["fail_next_left"])


def test_an_outage_window_fails_every_request_then_ends_by_itself(gateway):
    faults(gateway, outage_seconds=1.5)
    with gateway.client("s1") as school:
        during = [school.get(path) for path in ("/api/v1/records", "/healthz", "/")]
        with gateway.admin() as admin:
            assert admin.get("/_admin/faults").json()["outage_active"] is True
        time.sleep(1.7)
        after = school.get("/api/v1/records")
    for response in during:
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert response.json()["reason"] == "gateway_unavailable"
    assert after.status_code == 200


def test_an_outage_until_switched_off_can_drop_connections(gateway):
    faults(gateway, outage_seconds=0, outage_mode="drop")
    with gateway.client("s1") as school:
        for _ in range(2):
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                school.get("/healthz")
        time.sleep(0.3)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            school.get("/api/v1/records")
        faults(gateway)
        assert school.get("/healthz").status_code == 200


def test_the_same_seed_gives_the_same_fault_sequence(gateway):
    def run() -> list[int]:
        faults(gateway, error_rate=0.5, seed=7)
        with gateway.client("s1") as school:
            return [school.get("/api/v1/records").status_code for _ in range(20)]

    first, again = run(), run()
    assert first == again
    assert 200 in first and any(status >= 500 for status in first)


def test_admin_endpoints_need_the_admin_token(gateway):
    school_token = gateway.client("s1").headers["Authorization"]
    with http_client.client(base_url=gateway.admin_url, headers={"Authorization": school_token}) as school:
        for path in ("/_admin/faults", "/_admin/stats", "/_admin/clock"):
            response = school.get(path)
            assert (response.status_code, response.json()["reason"]) == (401, "unauthorized")
    with gateway.admin() as admin:
        bad = admin.post("/_admin/faults", json={"error_rate": 2})
    assert bad.status_code == 422 and bad.json()["reason"] == "body_invalid"


def test_stats_count_acceptances_replays_and_rejections_per_year_record(gateway):
    school_id = f"stats-{uuid.uuid4().hex[:6]}"
    d = docs(year_record(school_id=school_id))
    with gateway.client(school_id) as school:
        submit(school, d, key="a")
        submit(school, d, key="a")
        submit(school, d, key="b")  # duplicate_record
    with gateway.admin() as admin:
        body = admin.get("/_admin/stats").json()
    entry = body["year_records"][d.record.year_record_id]
    assert (entry["accepted"], entry["replayed"], entry["rejected"]) == (1, 1, 1)
    assert entry["versions"] == [{"version": 1, "status": "current"}]
    assert body["totals"]["accepted"] >= 1 and body["totals"]["records"] >= 1
    assert body["rejected_by_reason"]["duplicate_record"] >= 1
    assert "faults_injected" in body
