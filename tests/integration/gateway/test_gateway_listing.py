"""Reconciliation listing, downloads, per-school isolation and transfer of management on the real gateway."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.gateway.support import docs, next_version, replace_record, sha256, submit, year_record

pytestmark = pytest.mark.integration


def test_the_listing_pages_through_a_schools_records_of_one_school_year(gateway):
    school_id = f"list-{uuid.uuid4().hex[:6]}"
    keys = []
    with gateway.client(school_id) as school:
        for n in range(5):
            key = f"list-key-{n}-{school_id}"
            keys.append(key)
            assert submit(school, docs(year_record(school_id=school_id)), key=key).status_code == 201
        # Another school year of the same school: filtered out of the 2025-2026 pages.
        next_year = docs(year_record(school_id=school_id, school_year="2026-2027", grade=9))
        assert submit(school, next_year).status_code == 201
        pages, cursor = [], None
        while True:
            params = {"school_year": "2025-2026", "limit": 2, **({"cursor": cursor} if cursor else {})}
            body = school.get("/api/v1/records", params=params).json()
            pages.append(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        bad = school.get("/api/v1/records", params={"school_year": "2025"})
    assert [len(p) for p in pages] == [2, 2, 1]
    items = [i for p in pages for i in p]
    assert [i["idempotency_key"] for i in items] == keys
    for item in items:
        assert set(item) >= {
            "id",
            "year_record_id",
            "version",
            "status",
            "pdf_sha256",
            "xml_sha256",
            "accepted_at",
        }
        assert item["school_year"] == "2025-2026" and item["access"] == "owner"
    assert bad.status_code == 422 and bad.json()["reason"] == "body_invalid"


def test_downloads_return_the_sealed_bytes(gateway):
    d = docs(year_record())
    with gateway.client("s1") as school:
        record_id = submit(school, d).json()["id"]
        pdf, xml = (
            school.get(f"/api/v1/records/{record_id}/pdf"),
            school.get(f"/api/v1/records/{record_id}/xml"),
        )
    assert pdf.headers["content-type"] == "application/pdf" and sha256(pdf.content) == sha256(d.pdf)
    assert xml.content == d.xml and xml.headers["etag"] == f'"{sha256(d.xml)}"'


def test_a_school_sees_and_changes_only_its_own_records(gateway):
    d = docs(year_record(school_id="iso-a"))
    with gateway.client("iso-a") as a, gateway.client("iso-b") as b:
        record_id = submit(a, d).json()["id"]
        seen_by_b = b.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()[
            "items"
        ]
        download = b.get(f"/api/v1/records/{record_id}/pdf")
        withdraw = b.post(f"/api/v1/records/{record_id}/withdraw", json={"reason": "x"})
        replaced = replace_record(b, record_id, next_version(d, school_id="iso-b"), "x")
        # School B sending A's year record under its own name is still A's year record.
        hijack = submit(b, next_version(d, school_id="iso-b"))
        still = a.get("/api/v1/records", params={"year_record_id": d.record.year_record_id}).json()["items"]
    assert seen_by_b == []
    for response in (download, withdraw, replaced):
        assert (response.status_code, response.json()["reason"]) == (404, "record_not_found")
    assert hijack.json()["reason"] == "wrong_school"
    assert [(r["version"], r["status"]) for r in still] == [(1, "current")]


def test_a_transfer_lets_the_receiving_school_read_the_students_sealed_records(gateway):
    tag = uuid.uuid4().hex[:6]
    a_id, b_id = f"tr-a-{tag}", f"tr-b-{tag}"
    year1 = docs(year_record(school_id=a_id))
    with gateway.client(a_id) as a, gateway.client(b_id) as b:
        first = submit(a, year1).json()
        v2 = replace_record(a, first["id"], next_version(year1), "Sửa điểm").json()
        before = b.get("/api/v1/records", params={"transcript_id": year1.record.transcript_id}).json()[
            "items"
        ]
        transfer = a.post(
            "/api/v1/transfers", json={"transcript_id": year1.record.transcript_id, "to_school": b_id}
        )
        repeat = a.post(
            "/api/v1/transfers", json={"transcript_id": year1.record.transcript_id, "to_school": b_id}
        )
        received = b.get("/api/v1/records", params={"transcript_id": year1.record.transcript_id}).json()[
            "items"
        ]
        pdf = b.get(f"/api/v1/records/{v2['id']}/pdf")
        xml = b.get(f"/api/v1/records/{first['id']}/xml")
        b_withdraw = b.post(f"/api/v1/records/{v2['id']}/withdraw", json={"reason": "x"})
        a_still = a.get("/api/v1/records", params={"transcript_id": year1.record.transcript_id}).json()[
            "items"
        ]
        stranger = b.post("/api/v1/transfers", json={"transcript_id": "hb-nobody", "to_school": a_id})
        to_self = a.post(
            "/api/v1/transfers", json={"transcript_id": year1.record.transcript_id, "to_school": a_id}
        )
    assert before == []
    assert transfer.status_code == repeat.status_code == 201 and repeat.json()["id"] == transfer.json()["id"]
    assert transfer.json()["from_school"] == a_id and transfer.json()["to_school"] == b_id
    assert [(r["version"], r["status"], r["access"]) for r in received] == [
        (1, "replaced", "transfer"),
        (2, "current", "transfer"),
    ]
    assert all(r["idempotency_key"] is None for r in received)  # the sender's keys are its own business
    assert pdf.status_code == 200 and sha256(pdf.content) == v2["pdf_sha256"]
    assert xml.content == year1.xml
    assert (b_withdraw.status_code, b_withdraw.json()["reason"]) == (403, "wrong_school")
    assert len(a_still) == 2 and all(r["access"] == "owner" for r in a_still)
    assert (stranger.status_code, stranger.json()["reason"]) == (404, "transcript_not_found")
    assert (to_self.status_code, to_self.json()["reason"]) == (422, "same_school")


def test_the_receiving_school_reports_the_next_year_itself(gateway):
    tag = uuid.uuid4().hex[:6]
    a_id, b_id = f"nx-a-{tag}", f"nx-b-{tag}"
    year1 = docs(year_record(school_id=a_id))
    year2 = docs(
        year_record(
            school_id=b_id, transcript_id=year1.record.transcript_id, school_year="2026-2027", grade=9
        )
    )
    with gateway.client(a_id) as a, gateway.client(b_id) as b:
        submit(a, year1).raise_for_status()
        a.post("/api/v1/transfers", json={"transcript_id": year1.record.transcript_id, "to_school": b_id})
        assert submit(b, year2).status_code == 201
        seen_by_b = b.get("/api/v1/records", params={"transcript_id": year1.record.transcript_id}).json()[
            "items"
        ]
        seen_by_a = a.get("/api/v1/records", params={"transcript_id": year1.record.transcript_id}).json()[
            "items"
        ]
    assert [r["access"] for r in seen_by_b] == ["transfer", "owner"]
    assert [r["school_year"] for r in seen_by_a] == ["2025-2026"]  # A keeps its history, not B's new year
