"""The sample school is data the gradebook must accept: a school's students never share a personal ID."""

from __future__ import annotations

import hashlib
import json

from sandbox.sample_school import build


def test_no_two_students_of_a_school_share_a_personal_id() -> None:
    # Seed 2 drew the same serial twice for two students of this school (the gradebook refused the import); a
    # 90-pupil school met it about once in 500 builds, and the suite builds many with random ids.
    for seed in (2, 7, 8):
        ids = [s["personal_id"] for s in build("big", classes=10, students_per_class=100, seed=seed).students]
        assert len(set(ids)) == len(ids) == 1000
        assert all(len(pid) == 12 and pid.isdigit() for pid in ids)


def test_a_school_without_a_shared_serial_keeps_every_value_it_had() -> None:
    """Only a colliding serial moves (no extra draw): the demo school's students are byte for byte what they were
    before the fix (digest taken from the code before it), so nothing that expects them changes."""
    students = build("thcs-nguyen-du").students
    digest = hashlib.sha256(json.dumps(students, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert digest == "4d75e994cc96454c53af1e363f5cdf78ebdd48a426471c6c9862d166868bb76a"


def test_the_demo_cases_are_added_after_the_school_and_their_year_is_chosen() -> None:
    """Issue 17's case students come at the end of a class, drawn from generators of their own: every student the
    school had keeps what it drew (the digest above holds with them added). Their year is chosen: Toán 3.0 for the
    re-test, conduct Chưa đạt for summer training, no Giáo dục thể chất entry for the exempt student; the
    transferred student is the other school's person under this school's ids."""
    from sandbox.sample_school import (
        CASES,
        EXEMPT,
        EXEMPT_SUBJECT,
        RETEST,
        SUMMER_CONDUCT,
        TRANSFERRED,
        add_student,
        homeroom_for,
        marks_for,
    )

    school = build("thcs-nguyen-du")
    before = [dict(s) for s in school.students]
    sender = build("thcs-le-loi", classes=1, students_per_class=3, grade=7, year="2024-2025")
    class_id = school.classes[0]["class_id"]
    added = {
        c: add_student(school, class_id, c, like=sender.students[0] if c == TRANSFERRED else None)
        for c in CASES
    }
    assert school.students[: len(before)] == before
    assert len(
        {s["personal_id"] for s in school.students if s["student_id"] != added[TRANSFERRED]["student_id"]}
    ) == (len(school.students) - 1)
    assert [s["roll_number"] for s in added.values()] == [46, 47, 48, 49]
    moved = {k: added[TRANSFERRED][k] for k in ("moet_code", "full_name", "birth_date", "personal_id")}
    assert moved == {k: sender.students[0][k] for k in moved}
    assert (
        sender.students[0]["birth_date"][:4] == added[RETEST]["birth_date"][:4] == "2011"
    )  # grade 7 a year before

    def entry(code: str, case: str) -> dict | None:
        sid = added[case]["student_id"]
        return next((e for e in marks_for(school, class_id, code, "hk2") if e["student_id"] == sid), None)

    assert entry("toan", RETEST)["final"] == "3" and entry("ngu_van", RETEST)["final"] == "6"
    assert entry(EXEMPT_SUBJECT, EXEMPT) is None and entry(EXEMPT_SUBJECT, RETEST) is not None
    conduct = {e["student_id"]: e["conduct"] for e in homeroom_for(school, class_id, "hk1")}
    assert conduct[added[SUMMER_CONDUCT]["student_id"]] == "Chưa đạt"
    assert conduct[added[EXEMPT]["student_id"]] == "Tốt"


def test_the_mid_year_and_supplementary_cases_keep_every_drawn_value_and_choose_their_year() -> None:
    """The demo's two later cases: a grade-4 class added to a grade-5 school (its own homeroom teacher, pupils from
    generators of their own) with the pupil not complete in term II; the sending school a year on, without the
    student who left at year end; the student who joins after term I has term II only at the receiving school."""
    from sandbox.sample_school import (
        MIDYEAR,
        SUPPLEMENTARY,
        SUPPLEMENTARY_QUALITY,
        add_class,
        add_student,
        homeroom_for,
        marks_for,
        next_year,
    )

    primary = build("th-kim-dong", classes=2, students_per_class=20, grade=5)
    before = [dict(s) for s in primary.students]
    class_id = add_class(primary, 4, 4)
    pupil = add_student(primary, class_id, SUPPLEMENTARY)["student_id"]
    assert primary.students[: len(before)] == before and class_id.endswith("-4a1")
    homeroom = primary.homeroom_of(class_id)
    assert homeroom not in {c["homeroom_teacher_id"] for c in primary.classes[:2]}
    assert primary.teacher_of(class_id, "toan") == homeroom
    assert {s["birth_date"][:4] for s in primary.students_of(class_id)} == {"2015"}
    toan = {e["student_id"]: e for e in marks_for(primary, class_id, "toan", "hk2")}
    assert toan[pupil] == {"student_id": pupil, "level": "C", "test": 4}
    assert (
        next(e for e in marks_for(primary, class_id, "toan", "hk1") if e["student_id"] == pupil)["level"]
        == "H"
    )
    traits = next(e for e in homeroom_for(primary, class_id, "hk2") if e["student_id"] == pupil)
    assert traits["qualities"][SUPPLEMENTARY_QUALITY] == "C"

    sender = build("thcs-le-loi", classes=1, students_per_class=3, grade=7, year="2024-2025")
    later = next_year(sender, "2025-2026", {sender.students[0]["student_id"]})
    assert (later.grade, later.year, [c["class_id"] for c in later.classes]) == (
        8,
        "2025-2026",
        ["thcs-le-loi-8a1"],
    )
    assert [s["student_id"] for s in later.students] == [s["student_id"] for s in sender.students[1:]]
    school = build("thcs-nguyen-du")
    receiving = school.classes[0]["class_id"]
    joined = add_student(school, receiving, MIDYEAR, like=later.students[0])["student_id"]
    assert all(e["student_id"] != joined for e in marks_for(school, receiving, "toan", "hk1"))
    assert all(e["student_id"] != joined for e in homeroom_for(school, receiving, "hk1"))
    assert (
        next(e for e in marks_for(school, receiving, "toan", "hk2") if e["student_id"] == joined)["final"]
        == "8"
    )
