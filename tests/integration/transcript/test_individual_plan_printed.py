"""An individual education plan reaches the printed học bạ (TT22 art. 10): the year's lock carries it, the XML marks
the plan's subjects (individualPlan="true", valid against the XSD), the form prints "Học theo kế hoạch giáo dục cá
nhân" on those subjects and in the year's remarks, and the verifier's page check still reads every row; a student
without a plan prints none of it."""

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

PLAN = "Học theo kế hoạch giáo dục cá nhân"


def test_the_plan_s_subjects_and_the_year_s_remarks_say_the_student_follows_the_plan(stack):
    gradebook, transcript, engine = stack
    sample = build(f"khgd-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=2)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    planned, usual = (s["student_id"] for s in sample.students_of(class_id))
    with client.as_("hieu-truong", "principal") as p:
        p.post(
            f"/classes/{class_id}/students/{planned}/individual-plans",
            json={"subjects": ["toan", "ngu_van"], "reason": "Quyết định số 21/QĐ-THCS ngày 10/9/2025"},
        ).raise_for_status()
    comment = {"comment": "Đạt yêu cầu của kế hoạch giáo dục cá nhân"}
    marks = {
        sid: {
            code: {
                term: term_entry(code, periods, "7.5")
                | (comment if sid == planned and code in ("toan", "ngu_van") else {})
                for term in ("hk1", "hk2")
            }
            for code, periods in sample.subjects
        }
        for sid in (planned, usual)
    }
    homeroom = {sid: {t: {"conduct": "Tốt", "absences": 0} for t in ("hk1", "hk2")} for sid in marks}
    enter_chosen_year(client, sample, class_id, marks, homeroom)
    with client.as_("hieu-truong", "principal") as p:
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
        root = xml_package.validate(xml)  # the optional attribute keeps the package valid against the XSD
        text = pdftotext(http_client.get(f"{transcript}/records/{record['id']}/pdf", headers=staff).content)
        # The plan's subjects as the XML names them, in the form's order.
        on_plan = [
            s.findtext("h:Name", namespaces=ns)
            for s in root.iterfind("h:Subjects/h:Subject[@individualPlan='true']", ns)
        ]
        printed[record["student_id"]] = (xml, on_plan, text)
        assert page_disagreements(parse_record(xml), text) == [], record["student_id"]

    xml, on_plan, text = printed[planned]
    page = " ".join(text.split())
    assert sorted(on_plan) == ["Ngữ văn", "Toán"]
    assert "Toán (*)" in page and "Ngữ văn (*)" in page and "Khoa học tự nhiên (*)" not in page
    names = ", ".join(on_plan)
    assert f"(*) {PLAN}: {names} được đánh giá theo yêu cầu" in page
    assert "Điều 10 Thông tư 22/2021/TT-BGDĐT" in page
    remark = f"Ghi chú: {PLAN} (môn {names})."
    assert remark in page
    # A page that hides the plan, under the same XML, fails the verifier's check.
    forged = "\n".join(line for line in text.splitlines() if "Ghi chú" not in line)
    assert page_disagreements(parse_record(xml), forged) == [f"Trang in không có «{remark}» như trong XML."]
    _, on_plan, text = printed[usual]
    assert on_plan == [] and "kế hoạch giáo dục cá nhân" not in text and "(*)" not in text
