"""After its reporting cutoff a record is effective: an amendment is refused, saying what the school does instead."""

import uuid
from datetime import date

from sandbox.sample_school import build, marks_for
from services.gradebook.service import GradebookService
from tests.helpers import rewire, running
from tests.integration.gradebook.support import Client, enter_year_and_lock, load_school


def test_an_amendment_after_the_30_june_cutoff_is_refused_and_names_the_province_s_procedure(
    amqp_uri, service_databases
):
    with running(GradebookService, amqp_uri) as gradebook:
        sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3)
        client = Client(gradebook.http_url, sample.school_id)
        load_school(client, sample)
        class_id = sample.classes[0]["class_id"]
        enter_year_and_lock(client, sample, class_id)
        student = sample.students_of(class_id)[0]["student_id"]
        entered = next(e for e in marks_for(sample, class_id, "toan", "hk2") if e["student_id"] == student)
        body = {
            "student_id": student,
            "subject_code": "toan",
            # A final the sample did not enter (its marks are random): the proposal must change something.
            "after": {k: v for k, v in entered.items() if k != "student_id"}
            | {"final": "9.5" if entered["final"] != "9.5" else "3"},
            "reason": "Nhập nhầm điểm cuối kỳ",
        }
        teacher = sample.teacher_of(class_id, "toan")

        def propose():
            with client.as_(teacher, "teacher") as t:
                return t.post(f"/classes/{class_id}/terms/hk2/amendments", json=body)

        # On 30 June (Vietnam's calendar day) the record is still open: proposed.
        kept = rewire(gradebook, today=lambda: date(2026, 6, 30))
        proposed = propose()
        assert proposed.status_code == 201, proposed.text
        # On 1 July it is effective: a new proposal, and approving the one made in time, are both refused.
        rewire(gradebook, today=lambda: date(2026, 7, 1))
        late = propose()
        assert late.status_code == 409, late.text
        problem = late.json()
        assert problem["type"].endswith("amendment-after-cutoff")
        assert "đã có hiệu lực từ ngày 30/06/2026" in problem["detail"] and "gửi Sở" in problem["detail"]
        with client.as_("hieu-truong", "principal") as p:
            approved = p.post(
                f"/amendments/{proposed.json()['amendment_id']}/decision", json={"approve": True}
            )
            assert approved.status_code == 409 and "hiệu lực" in approved.text, approved.text
            # Rejecting it is still possible: it changes nothing.
            rejected = p.post(
                f"/amendments/{proposed.json()['amendment_id']}/decision", json={"approve": False}
            )
            assert rejected.status_code == 200, rejected.text
        rewire(gradebook, **kept)
