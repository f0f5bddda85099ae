"""A class of 45 students × 12 subjects entered in bulk and locked; the locked event equals the API's sheet."""

import json
import threading
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from contracts.envelope import parse_envelope
from contracts.gradebook import TermLockedV1
from sandbox.sample_school import SUBJECTS, homeroom_for, marks_for
from services.gradebook.store.tables import outbox
from services.runtime.db import make_engine
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from tests.helpers import wait_for

pytestmark = pytest.mark.integration


def enter_term(school, client, class_id, term):
    for code, _ in SUBJECTS:
        teacher = school.teacher_of(class_id, code)
        with client.as_(teacher, "teacher") as t:
            r = t.put(
                f"/classes/{class_id}/subjects/{code}/terms/{term}/marks",
                json={"entries": marks_for(school, class_id, code, term)},
            )
            assert r.status_code == 200, r.text
            assert r.json()["saved"] == len(school.students_of(class_id))
    with client.as_(school.homeroom_of(class_id), "teacher", "homeroom") as h:
        r = h.put(
            f"/classes/{class_id}/terms/{term}/homeroom",
            json={"entries": homeroom_for(school, class_id, term)},
        )
        assert r.status_code == 200, r.text


def test_bulk_entry_lock_and_the_consumed_snapshot_equals_the_sheet(school, amqp_uri, service_databases):
    sample, client = school
    class_id = sample.classes[0]["class_id"]
    enter_term(sample, client, class_id, "hk1")

    # A test consumer bound before the lock, and the real relay publishing the outbox.
    queue = Queue(
        f"test-locked-{uuid.uuid4().hex[:6]}",
        Exchange("gradebook.events", type="topic", durable=True),
        routing_key=TermLockedV1.routing_key(),
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as conn:
        queue.declare(channel=conn.default_channel)
    engine = make_engine(service_databases["gradebook"])
    relay = OutboxRelay("gradebook", engine, outbox, ConfirmingPublisher(amqp_uri))
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll_seconds": 0.05})
    relay_thread.start()
    try:
        with client.as_("hieu-truong", "principal") as p:
            locked = p.post(f"/classes/{class_id}/terms/hk1/lock")
            assert locked.status_code == 201, locked.text
            sheet = p.get(f"/classes/{class_id}/sheet", params={"term": "hk1"}).json()

        def locked_event():
            with Connection(amqp_uri) as conn:
                while (m := conn.default_channel.basic_get(queue.name, no_ack=True)) is not None:
                    envelope = parse_envelope(TermLockedV1, __import__("json").loads(m.body))
                    if envelope.data.class_id == class_id:
                        return envelope
            return None

        envelope = wait_for(locked_event, timeout=60, what="the term-locked event")
    finally:
        stop.set()
        relay_thread.join(10)
        engine.dispose()
    snapshot = envelope.data.snapshot.model_dump(mode="json")
    assert sheet["locked"] is True
    assert len(snapshot["students"]) == 45 and len(snapshot["subjects"]) == 12
    sealed = [s.pop("personal_id_enc") for s in snapshot["students"]]  # for the transcript only, encrypted
    assert all(sealed) and not any("personal_id_enc" in s for s in sheet["students"])
    # The birth date and place and the ethnicity, for the form: sealed as well, and not on the teachers' sheet.
    details = [s.pop("personal_details_enc") for s in snapshot["students"]]
    assert all(details) and not any("personal_details_enc" in s for s in sheet["students"])
    enrolled = {s["student_id"]: s["register_number"] for s in sample.students}
    assert all(s["register_number"] == enrolled[s["student_id"]] for s in snapshot["students"])
    assert snapshot["students"] == sheet["students"]
    assert snapshot["subjects"] == sheet["subjects"]
    assert envelope.data.snapshot.content_hash == sheet["content_hash"] == locked.json()["content_hash"]
    first = snapshot["students"][0]
    toan = next(s for s in first["subjects"] if s["subject_code"] == "toan")
    assert len(toan["hk1"]["regular"]) == 4  # 140 periods a year → 4 regular assessments
    assert first["hk1"]["conduct"] in ("Tốt", "Khá", "Đạt")
    clear_ids = {s["personal_id"] for s in sample.students}
    assert not any(pid in json.dumps(envelope.wire()) for pid in clear_ids) and "birth" not in str(snapshot)
    wire = json.dumps(envelope.wire(), ensure_ascii=False)
    assert not any(s["birth_date"] in wire or s["birth_place"] in wire for s in sample.students)


def test_writes_after_lock_are_refused_and_need_an_amendment(school):
    sample, client = school
    class_id = sample.classes[1]["class_id"]
    teacher = sample.teacher_of(class_id, "toan")
    student = sample.students_of(class_id)[0]["student_id"]
    with client.as_(teacher, "teacher") as t:
        assert (
            t.put(
                f"/classes/{class_id}/subjects/toan/terms/hk1/marks",
                json={
                    "entries": [{"student_id": student, "regular": [7, 8, 6, 9], "midterm": 7, "final": 6.5}]
                },
            ).status_code
            == 200
        )
        early = t.post(
            f"/classes/{class_id}/terms/hk1/amendments",
            json={
                "student_id": student,
                "subject_code": "toan",
                "after": {"final": 8},
                "reason": "Chấm sót câu 3",
            },
        )
        assert early.status_code == 409 and "chưa khóa" in early.json()["detail"]
    with client.as_("hieu-truong", "principal") as p:
        assert p.post(f"/classes/{class_id}/terms/hk1/lock").status_code == 201
    with client.as_(teacher, "teacher") as t:
        refused = t.put(
            f"/classes/{class_id}/subjects/toan/terms/hk1/marks",
            json={"entries": [{"student_id": student, "final": 9}]},
        )
        assert refused.status_code == 409 and "biên bản" in refused.json()["detail"]
        proposed = t.post(
            f"/classes/{class_id}/terms/hk1/amendments",
            json={
                "student_id": student,
                "subject_code": "toan",
                "after": {"regular": [7, 8, 6, 9], "midterm": 7, "final": 8},
                "reason": "Chấm sót câu 3 bài cuối kỳ",
            },
        )
        assert proposed.status_code == 201, proposed.text
        amendment = proposed.json()
        assert amendment["before"]["final"] == "6.5" and amendment["after"]["final"] == "8"
    with client.as_("hieu-truong", "principal") as p:
        pending = p.get(f"/schools/{sample.school_id}/amendments", params={"status": "pending"}).json()[
            "amendments"
        ]
        assert [a["id"] for a in pending] == [amendment["amendment_id"]]
        before = p.get(f"/classes/{class_id}/sheet", params={"term": "hk1"}).json()
        approved = p.post(
            f"/amendments/{amendment['amendment_id']}/decision", json={"approve": True, "note": "Đồng ý"}
        )
        assert approved.status_code == 200, approved.text
        again = p.post(f"/amendments/{amendment['amendment_id']}/decision", json={"approve": False})
        assert again.status_code == 409
        after = p.get(f"/classes/{class_id}/sheet", params={"term": "hk1"}).json()

    def final_of(sheet):
        row = next(s for s in sheet["students"] if s["student_id"] == student)
        return next(s for s in row["subjects"] if s["subject_code"] == "toan")["hk1"]["final"]

    assert (final_of(before), final_of(after)) == ("6.5", "8")
    assert after["content_hash"] != before["content_hash"]


def test_the_homeroom_teacher_sees_the_computed_year_with_its_reasons_equal_to_the_rules_cli(gradebook):
    from sandbox.sample_school import build
    from services.gradebook.domain.curriculum import subject
    from services.gradebook.domain.evaluate import evaluate
    from tests.integration.gradebook.support import Client, load_school

    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=2, students_per_class=10)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[1]["class_id"]
    for term in ("hk1", "hk2"):
        enter_term(sample, client, class_id, term)
    student = sample.students_of(class_id)[3]["student_id"]
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        response = h.get(f"/classes/{class_id}/students/{student}/results")
    assert response.status_code == 200, response.text
    results = response.json()
    # The same year through `hocba rules evaluate`'s engine, from the entries the teachers made:
    subjects = []
    for code, periods in SUBJECTS:
        terms = {
            t: next(e for e in marks_for(sample, class_id, code, t) if e["student_id"] == student)
            for t in ("hk1", "hk2")
        }
        kind = subject(code, 8).assessment.value
        subjects.append(
            {
                "code": code,
                "assessment": kind,
                "periods_per_year": periods,
                **{t: {k: v for k, v in e.items() if k != "student_id"} for t, e in terms.items()},
            }
        )
    records = {
        t: next(e for e in homeroom_for(sample, class_id, t) if e["student_id"] == student)
        for t in ("hk1", "hk2")
    }
    cli = evaluate(
        {
            "circular": "tt22",
            "grade": 8,
            "subjects": subjects,
            "conduct": {t: records[t]["conduct"] for t in ("hk1", "hk2")},
            "absences": records["hk1"]["absences"] + records["hk2"]["absences"],
        }
    )
    for row in cli["subjects"]:
        for period in ("hk1", "hk2", "year"):
            assert str(row[period]) == results["averages"][f"{row['code']}.{period}"], (row, period)
    assert results["learning_result"] == cli["learning_result"]
    assert results["year"]["conduct"] == cli["conduct"]["year"]
    assert results["year"]["promotion"] == cli["promotion"]["outcome"]
    assert "Điều 9" in results["explanations"]["learning_result.year"]
    assert results["explanations"]["toan.year"].startswith("Toán: ĐTBmcn = (")

    # A comment-only subject's term is computed from its assessments (TT22 art. 9 §1a): one mid-term CĐ among
    # otherwise Đạt assessments makes the term Chưa đạt, and the reason names it.
    with client.as_(sample.teacher_of(class_id, "gdtc"), "teacher") as t:
        t.put(
            f"/classes/{class_id}/subjects/gdtc/terms/hk1/marks",
            json={
                "entries": [
                    {"student_id": student, "regular": ["Đ", "Đ", "Đ"], "midterm": "CĐ", "final": "Đ"}
                ]
            },
        ).raise_for_status()
        typed = t.put(
            f"/classes/{class_id}/subjects/gdtc/terms/hk1/marks",
            json={"entries": [{"student_id": student, "result": "Đ"}]},
        )
    assert typed.status_code == 422 and "được tính từ các lần đánh giá" in typed.text, typed.text
    with client.as_(sample.homeroom_of(class_id), "teacher", "homeroom") as h:
        after = h.get(f"/classes/{class_id}/students/{student}/results").json()
    assert after["averages"]["gdtc.hk1"] == "CĐ"
    assert "đánh giá giữa kỳ Chưa đạt" in after["explanations"]["gdtc.hk1"], after["explanations"]


def test_the_principal_locks_and_unlocks_a_term_for_the_whole_school(gradebook):
    from sandbox.sample_school import build
    from tests.integration.gradebook.support import Client, load_school

    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=3, students_per_class=2)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    classes = sorted(c["class_id"] for c in sample.classes)
    with client.as_("hieu-truong", "principal") as p:
        assert p.post(f"/classes/{classes[0]}/terms/hk1/lock").status_code == 201
        locked = p.post(f"/schools/{sample.school_id}/terms/hk1/lock").json()
        assert (sorted(locked["locked"]), locked["already_locked"]) == (classes[1:], classes[:1])
        assert (
            p.post(f"/schools/{sample.school_id}/terms/hk1/unlock", json={"reason": "x"}).status_code == 422
        )
        unlocked = p.post(
            f"/schools/{sample.school_id}/terms/hk1/unlock", json={"reason": "Sở cho phép nhập bổ sung"}
        )
        assert sorted(unlocked.json()["unlocked"]) == classes
        assert all(not p.get(f"/classes/{c}/sheet").json()["locked"] for c in classes)
    with client.as_(sample.homeroom_of(classes[0]), "teacher", "homeroom") as h:
        refused = h.post(f"/schools/{sample.school_id}/terms/hk1/unlock", json={"reason": "Tôi muốn sửa"})
        assert refused.status_code == 403


def test_term_two_refuses_a_class_with_a_missing_result_naming_the_student_and_subject(gradebook):
    """Term II closes the year: a gap refuses the lock and says whose and which result; the principal may lock
    anyway for named students, with a reason that reaches the audit log."""
    from sandbox.sample_school import build
    from tests.integration.gradebook.support import Client, load_school

    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=4)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    enter_term(sample, client, class_id, "hk1")
    enter_term(sample, client, class_id, "hk2")
    absent = sample.students_of(class_id)[2]
    # Khoa học tự nhiên's term-II marks of one student never came in (the teacher entered the others).
    with client.as_(sample.teacher_of(class_id, "khtn"), "teacher") as t:
        partial = [
            e for e in marks_for(sample, class_id, "khtn", "hk2") if e["student_id"] != absent["student_id"]
        ]
        t.put(
            f"/classes/{class_id}/subjects/khtn/terms/hk2/marks", json={"entries": partial}
        ).raise_for_status()
        # …and a value already saved cannot be blanked: enter the gap by clearing that student's final.
        cleared = next(
            e for e in marks_for(sample, class_id, "khtn", "hk2") if e["student_id"] == absent["student_id"]
        )
        t.put(
            f"/classes/{class_id}/subjects/khtn/terms/hk2/marks",
            json={"entries": [{**cleared, "final": None}]},
        ).raise_for_status()
    with client.as_("hieu-truong", "principal") as p:
        p.post(f"/classes/{class_id}/terms/hk1/lock").raise_for_status()
        refused = p.post(f"/classes/{class_id}/terms/hk2/lock")
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["missing"] == [
            {
                "student_id": absent["student_id"],
                "student": absent["full_name"],
                "result": "Khoa học tự nhiên",
            }
        ], problem
        assert f"{absent['full_name']}: Khoa học tự nhiên" in problem["detail"]
        # Accepting the gap needs the student named and a reason.
        unnamed = p.post(
            f"/classes/{class_id}/terms/hk2/lock",
            json={"incomplete_accepted": [], "reason": "Học sinh ốm dài ngày"},
        )
        assert unnamed.status_code == 409, unnamed.text
        reasonless = p.post(
            f"/classes/{class_id}/terms/hk2/lock", json={"incomplete_accepted": [absent["student_id"]]}
        )
        assert reasonless.status_code == 422, reasonless.text
        locked = p.post(
            f"/classes/{class_id}/terms/hk2/lock",
            json={
                "incomplete_accepted": [absent["student_id"]],
                "reason": "Học sinh ốm dài ngày, thi bù sau",
            },
        )
    assert locked.status_code == 201, locked.text
    assert locked.json()["incomplete_accepted"] == problem["missing"]
