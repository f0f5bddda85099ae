"""One grade value's full history, end to end: the real gradebook's events over the broker into the real audit log."""

import threading
import uuid

import pytest

from sandbox.sample_school import build
from services.audit.service import AuditService
from services.gradebook.service import GradebookService
from services.gradebook.store.tables import outbox
from services.runtime.db import make_engine
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from tests.helpers import running, wait_for
from tests.integration.gradebook.support import Client, load_school

pytestmark = pytest.mark.integration

PRINCIPAL = "hieu-truong"


@pytest.fixture(scope="module")
def stack(amqp_uri, service_databases):
    """Audit consuming, gradebook serving, and the gradebook's relay publishing its outbox."""
    engine = make_engine(service_databases["gradebook"])
    relay = OutboxRelay("gradebook", engine, outbox, ConfirmingPublisher(amqp_uri))
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll_seconds": 0.05})
    # Few workers: few database connections on a shared server.
    with (
        running(AuditService, amqp_uri, max_workers=3) as audit,
        running(GradebookService, amqp_uri, max_workers=3) as gradebook,
    ):
        thread.start()
        try:
            yield gradebook.http_url, audit.http_url
        finally:
            stop.set()
            thread.join(10)
    engine.dispose()


def test_a_marks_history_from_entry_through_the_lock_to_the_approved_amendment(stack):
    gradebook, audit = stack
    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3)
    school = Client(gradebook, sample.school_id)
    load_school(school, sample)
    class_id = sample.classes[0]["class_id"]
    teacher = sample.teacher_of(class_id, "toan")
    student = sample.students_of(class_id)[0]["student_id"]
    marks = f"/classes/{class_id}/subjects/toan/terms/hk1/marks"
    with school.as_(teacher, "teacher") as t:
        entry = {"regular": [7, 8, 6, 9], "midterm": 7}
        for final in (6.5, 7):
            r = t.put(marks, json={"entries": [{"student_id": student, **entry, "final": final}]})
            assert r.status_code == 200, r.text
    with school.as_(PRINCIPAL, "principal") as p:
        assert p.post(f"/classes/{class_id}/terms/hk1/lock").status_code == 201
    with school.as_(teacher, "teacher") as t:
        proposed = t.post(
            f"/classes/{class_id}/terms/hk1/amendments",
            json={
                "student_id": student,
                "subject_code": "toan",
                "after": {**entry, "final": 8},
                "reason": "Chấm sót câu 3 bài cuối kỳ",
            },
        )
        assert proposed.status_code == 201, proposed.text
    amendment_id = proposed.json()["amendment_id"]
    with school.as_(PRINCIPAL, "principal") as p:
        decided = p.post(f"/amendments/{amendment_id}/decision", json={"approve": True, "note": "Đồng ý"})
        assert decided.status_code == 200, decided.text

    log = Client(audit, sample.school_id)
    path = f"/schools/{sample.school_id}/audit/grades/{class_id}/toan/hk1/{student}"

    def history():
        with log.as_("thanh-tra", "inspector") as i:
            body = i.get(path).json()
        return body if {"amendment_approval", "amended_value"} <= {s["kind"] for s in body["steps"]} else None

    body = wait_for(history, timeout=60, what="the amended value in the audit log")
    steps = body["steps"]
    assert [s["kind"] for s in steps] == [
        "value",
        "value",
        "lock",
        "amendment_request",
        "amendment_approval",
        "amended_value",
    ]
    assert [s["occurred_at"] for s in steps] == sorted(s["occurred_at"] for s in steps)
    assert steps[0]["changes"]["final"] == "∅ → 6.5" and steps[0]["actor_id"] == teacher
    assert steps[1]["changes"] == {"final": "6.5 → 7"} and steps[1]["before_hash"] == steps[0]["after_hash"]
    assert steps[2]["actor_id"] == PRINCIPAL and steps[2]["entity_id"].endswith("/hk1")
    assert steps[3]["actor_id"] == teacher and steps[3]["reason"] == "Chấm sót câu 3 bài cuối kỳ"
    assert steps[4]["approved_by"] == PRINCIPAL and steps[4]["reason"] == "Đồng ý"
    assert steps[5]["changes"] == {"final": "7 → 8"} and steps[5]["approved_by"] == PRINCIPAL
    assert steps[5]["before_hash"] == steps[1]["after_hash"]
    assert {s["amendment_id"] for s in steps[3:]} == {amendment_id}
    assert body["amendments"] == [
        {
            "amendment_id": amendment_id,
            "status": "approved",
            "requested_by": teacher,
            "reason": "Chấm sót câu 3 bài cuối kỳ",
            "requested_at": steps[3]["occurred_at"],
            "decided_by": PRINCIPAL,
            "decision_note": "Đồng ý",
            "decided_at": steps[4]["occurred_at"],
        }
    ]
    with log.as_(PRINCIPAL, "principal") as p:
        assert p.get(path).json()["steps"] == steps
    with log.as_(teacher, "teacher") as t:
        assert t.get(path).status_code == 403
    with log.as_(PRINCIPAL, "principal", school="another-school") as other:
        foreign = other.get(path)
        unknown = other.get(path.replace(f"/schools/{sample.school_id}/", "/schools/truong-khong-co/", 1))
    assert foreign.status_code == unknown.status_code == 404 and foreign.json() == unknown.json()
    with log.as_("ops", "operator") as operator:  # even with the school in the token: no reading role
        assert operator.get(path).status_code == 403


def test_served_openapi_matches_the_committed_document(stack):
    import json
    from pathlib import Path

    from services.runtime import http_client

    committed = Path(__file__).resolve().parents[3] / "contracts" / "openapi" / "audit.json"
    served = http_client.get(f"{stack[1]}/openapi.json").json()
    assert served == json.loads(committed.read_text()), "run `hocba contracts openapi` and commit the result"
    assert "/schools/{school_id}/audit/grades/{class_id}/{subject}/{term}/{student_id}" in served["paths"]
