"""The principal's award reaches the printed học bạ: the year's lock carries it, the XML holds it, the form prints
"Khen thưởng: …" and the verifier's page check reads it; a student the results would allow but the principal did
not award prints none."""

import uuid

import pytest

from sandbox.sample_school import build
from services.runtime import http_client
from services.signing.verifier.page import page_disagreements
from services.signing.verifier.record import parse_record
from services.transcript.documents import xml_package
from tests.helpers import wait_for
from tests.integration.gradebook.support import Client, enter_chosen_year, load_school, term_entry
from tests.integration.transcript.test_assembly import records_of
from tests.integration.transcript.test_documents import pdftotext

pytestmark = pytest.mark.integration


def test_the_principals_award_is_printed_on_the_hoc_ba_and_the_page_check_reads_it(stack):
    gradebook, transcript, engine = stack
    sample = build(f"kt-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=2)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    awarded, not_awarded = (s["student_id"] for s in sample.students_of(class_id))
    # Both are Học sinh Xuất sắc by their results (art. 15); only the first is given the title.
    marks = {
        sid: {
            code: {term: term_entry(code, periods, "9.5") for term in ("hk1", "hk2")}
            for code, periods in sample.subjects
        }
        for sid in (awarded, not_awarded)
    }
    homeroom = {sid: {t: {"conduct": "Tốt", "absences": 0} for t in ("hk1", "hk2")} for sid in marks}
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    with client.as_("hieu-truong", "principal") as p:
        p.post(
            f"/classes/{class_id}/students/{awarded}/awards",
            json={"kind": "xuat_sac", "reason": "Quyết định số 30/QĐ-THCS ngày 25/5/2026"},
        ).raise_for_status()
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()
    records = wait_for(
        lambda: (r := records_of(engine, sample.school_id)) and len(r) == 2 and r,
        timeout=60,
        what="2 records",
    )
    staff = client.headers("van-thu", "staff")
    ns = {"h": xml_package.NS}
    printed = {}
    for record in records:
        xml = http_client.get(f"{transcript}/records/{record['id']}/xml", headers=staff).content
        root = xml_package.validate(xml)
        pdf = http_client.get(f"{transcript}/records/{record['id']}/pdf", headers=staff).content
        page = pdftotext(pdf)
        printed[record["student_id"]] = (root.findtext("h:Results/h:Award", namespaces=ns), page)
        assert page_disagreements(parse_record(xml), page) == [], record["student_id"]

    award, page = printed[awarded]
    assert award == "Học sinh Xuất sắc"
    assert "Khen thưởng: Học sinh Xuất sắc" in " ".join(page.split())
    # A page that lost the award, under the same XML, fails the verifier's check.
    forged = page.replace("Khen thưởng: Học sinh Xuất sắc", "")
    assert page_disagreements(parse_record(_xml_of(transcript, records, awarded, staff)), forged) == [
        "Trang in không có «Khen thưởng: Học sinh Xuất sắc» như trong XML."
    ]
    award, page = printed[not_awarded]
    assert award is None and "Khen thưởng" not in page


def _xml_of(transcript, records, student_id, headers) -> bytes:
    record = next(r for r in records if r["student_id"] == student_id)
    return http_client.get(f"{transcript}/records/{record['id']}/xml", headers=headers).content
