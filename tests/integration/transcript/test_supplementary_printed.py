"""A primary pupil's supplementary assessment reaches the printed học bạ (TT27 art. 11): the year's record carries the
completion decision and is effective on 15 August; after the principal's summer lock a new version keeps the year-end
level, test and quality beside the re-assessed ones and prints completion decided again; the verifier's page check
agrees."""

import uuid

import pytest

from sandbox.sample_school import COMPETENCIES, PRIMARY_TESTED, QUALITIES, build
from services.runtime import http_client
from services.signing.verifier.page import page_disagreements
from services.signing.verifier.record import parse_record
from services.transcript.documents import xml_package
from tests.helpers import wait_for
from tests.integration.gradebook.support import Client, enter_chosen_year, load_school
from tests.integration.transcript.test_assembly import records_of
from tests.integration.transcript.test_documents import pdftotext

pytestmark = pytest.mark.integration
NS = {"h": xml_package.NS}


def test_the_hoc_ba_prints_the_completion_decision_and_after_the_summer_both_results(stack):
    gradebook, transcript, engine = stack
    sample = build(f"bs-in-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=1, grade=4)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    (pupil,) = (s["student_id"] for s in sample.students_of(class_id))

    def entry(code: str, term: str) -> dict:
        weak = code == "toan" and term == "hk2"
        return {"level": "C" if weak else "H"} | (
            {"test": 4 if weak else 7} if code in PRIMARY_TESTED else {}
        )

    marks = {pupil: {code: {t: entry(code, t) for t in ("hk1", "hk2")} for code, _ in sample.subjects}}
    traits = {
        "qualities": dict.fromkeys(QUALITIES, "Đ") | {"cham_chi": "C"},
        "competencies": dict.fromkeys(COMPETENCIES, "Đ"),
    }
    enter_chosen_year(client, sample, class_id, marks, {pupil: {"hk1": traits, "hk2": traits}})
    staff = client.headers("van-thu", "staff")
    with client.as_("hieu-truong", "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
    (first,) = wait_for(lambda: records_of(engine, sample.school_id), timeout=60, what="the year's record")
    root = xml_package.validate(
        http_client.get(f"{transcript}/records/{first['id']}/xml", headers=staff).content
    )
    assert root.findtext("h:Results/h:Promotion", namespaces=NS) == "Chưa hoàn thành chương trình lớp học"
    assert root.findtext(".//h:EffectiveDate", namespaces=NS) == "2026-08-15"

    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        h.put(
            f"/classes/{class_id}/subjects/toan/summer/retest",
            json={"entries": [{"student_id": pupil, "result": "H", "test": 6}]},
        ).raise_for_status()
        h.put(
            f"/classes/{class_id}/summer/conduct",
            json={"entries": [{"student_id": pupil, "qualities": {"cham_chi": "Đ"}}]},
        ).raise_for_status()
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/classes/{class_id}/summer/lock").raise_for_status()
    records = wait_for(
        lambda: (r := records_of(engine, sample.school_id)) and len(r) == 2 and r,
        timeout=60,
        what="version 2",
    )
    again = next(r for r in records if r["version"] == 2)
    xml = http_client.get(f"{transcript}/records/{again['id']}/xml", headers=staff).content
    root = xml_package.validate(xml)
    toan = root.find("h:Subjects/h:Subject[@code='toan']", NS)
    assert (toan.findtext("h:Year", namespaces=NS), toan.findtext("h:YearAfterRetest", namespaces=NS)) == (
        "C",
        "H",
    )
    assert toan.findtext("h:TestAfterSupplementary", namespaces=NS) == "6"
    assert toan.findtext("h:Term[@term='hk2']/h:Test", namespaces=NS) == "4"
    results = root.find("h:Results", NS)
    diligence = results.find("h:Quality[@name='cham_chi']", NS)
    assert (diligence.text, diligence.get("afterSupplementary")) == ("C", "Đ")
    assert results.findtext("h:YearResult", namespaces=NS) == "Chưa hoàn thành"
    assert results.findtext("h:Promotion", namespaces=NS) == "Chưa hoàn thành chương trình lớp học"
    assert (
        results.findtext("h:PromotionAfterSummer", namespaces=NS)
        == "Hoàn thành chương trình lớp học; lên lớp"
    )
    assert root.findtext(".//h:EffectiveDate", namespaces=NS) == "2026-08-15"
    page = pdftotext(http_client.get(f"{transcript}/records/{again['id']}/pdf", headers=staff).content)
    flat = " ".join(page.split())
    assert "Sau đánh giá bổ sung: Hoàn thành chương trình lớp học; lên lớp" in flat
    assert "Xác nhận: Chưa hoàn thành chương trình lớp học" in flat
    assert "sau đánh giá bổ sung (Điều 11 Thông tư 27/2020/TT-BGDĐT)" in flat
    assert "Chăm chỉ: Cần cố gắng / Đạt" in flat
    assert page_disagreements(parse_record(xml), page) == []
