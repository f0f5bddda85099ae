"""A lock racing with teachers' writes never leaves a value changed after the lock."""

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.gradebook.store.classes import ClassRepository
from services.gradebook.store.tables import outbox
from services.runtime.db import make_engine
from tests.helpers import wait_for

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


def _waiting_for_a_lock(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "select count(*) from pg_stat_activity "
                "where datname = current_database() and wait_event_type = 'Lock'"
            )
        ).scalar_one()


def test_a_writer_that_comes_after_a_waiting_lock_waits_behind_it(school, service_databases):
    """PostgreSQL lets a new FOR SHARE row lock past a FOR UPDATE that already waits, so a steady stream of
    teachers' saves could hold the principal's lock off for as long as it lasts. The class guard queues them in
    arrival order: a save that comes after the waiting lock waits behind it (here: until its lock timeout)."""
    sample, _ = school
    class_id = sample.classes[1]["class_id"]
    engine = make_engine(service_databases["gradebook"])
    saving = Session(engine)
    try:
        assert ClassRepository(saving).info(class_id, guard="share") is not None  # a teacher's save, open
        locked = threading.Event()

        def lock() -> None:
            with Session(engine) as s, s.begin():
                ClassRepository(s).info(class_id, guard="update")
                locked.set()

        principal = threading.Thread(target=lock)
        principal.start()
        wait_for(
            lambda: _waiting_for_a_lock(engine) == 1, what="the principal's lock waiting behind the save"
        )
        later = Session(engine)
        try:
            later.execute(text("set local lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                ClassRepository(later).info(class_id, guard="share")
        finally:
            later.rollback()
            later.close()
        assert not locked.is_set()
    finally:
        saving.commit()  # the save ends: the lock goes through
        saving.close()
    principal.join(30)
    assert locked.is_set()
    engine.dispose()
