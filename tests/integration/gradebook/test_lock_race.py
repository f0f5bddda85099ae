"""A lock racing with teachers' writes never leaves a value changed after the lock."""

import threading

import pytest
from sqlalchemy import select

from services.gradebook.store.tables import outbox
from services.runtime.db import make_engine

pytestmark = pytest.mark.integration

WRITERS = ("toan", "ngu_van", "khtn", "ngoai_ngu_1", "lich_su_dia_li", "cong_nghe")


def test_concurrent_writes_and_lock_leave_the_sheet_equal_to_the_locked_snapshot(school, service_databases):
    sample, client = school
    class_id = sample.classes[0]["class_id"]
    students = [s["student_id"] for s in sample.students_of(class_id)]
    outcomes: dict[str, list[int]] = {code: [] for code in WRITERS}
    start = threading.Barrier(len(WRITERS) + 1)

    def teacher(code: str) -> None:
        with client.as_(sample.teacher_of(class_id, code), "teacher") as t:
            start.wait()
            for n in range(200):
                value = str((n % 20) / 2)
                r = t.put(
                    f"/classes/{class_id}/subjects/{code}/terms/hk1/marks",
                    json={"entries": [{"student_id": sid, "midterm": value} for sid in students[:10]]},
                )
                outcomes[code].append(r.status_code)
                if r.status_code == 409:
                    return

    threads = [threading.Thread(target=teacher, args=(code,)) for code in WRITERS]
    for t in threads:
        t.start()
    start.wait()
    with client.as_("hieu-truong", "principal") as p:
        while sum(len(v) for v in outcomes.values()) < 3 * len(WRITERS):  # let the writers get going
            threading.Event().wait(0.01)
        locked = p.post(f"/classes/{class_id}/terms/hk1/lock")
        assert locked.status_code == 201, locked.text
    for t in threads:
        t.join(60)
    assert all(codes and codes[-1] == 409 for codes in outcomes.values()), (
        outcomes
    )  # each writer hit the lock
    assert all(set(codes) <= {200, 409} for codes in outcomes.values())

    with client.as_("hieu-truong", "principal") as p:
        sheet = p.get(f"/classes/{class_id}/sheet", params={"term": "hk1"}).json()
    engine = make_engine(service_databases["gradebook"])
    with engine.connect() as conn:
        body = conn.execute(
            select(outbox.c.body).where(
                outbox.c.ce_type == "vn.hocba.gradebook.term.locked.v1",
                outbox.c.body["data"]["class_id"].astext == class_id,
            )
        ).scalar_one()
    engine.dispose()
    snapshot = body["data"]["snapshot"]
    assert snapshot["content_hash"] == locked.json()["content_hash"] == sheet["content_hash"]
    for student in snapshot["students"]:
        student.pop("personal_id_enc")
        student.pop("personal_details_enc", None)  # sealed for the form; the teachers' sheet never shows it
    assert snapshot["students"] == sheet["students"]
