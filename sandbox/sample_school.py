"""Deterministic sample schools, primary (Circular 27/2020) or lower secondary (Circular 22/2021): teachers, classes,
students, assignments and a year of marks. Generated Vietnamese names; no real person."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
]
MIDDLE_M = ["Văn", "Minh", "Đức", "Quang", "Hữu", "Gia"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Phương", "Bảo", "Khánh"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hiếu",
    "Khoa",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tuấn",
    "Việt",
]
GIVEN_F = [
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "My",
    "Ngân",
    "Thảo",
    "Trang",
    "Yến",
]

# Lower secondary, CT GDPT 2018: 8 scored and 4 comment-only subjects, with periods per year.
SUBJECTS: list[tuple[str, int | None]] = [
    ("ngu_van", 140),
    ("toan", 140),
    ("ngoai_ngu_1", 105),
    ("gdcd", 35),
    ("lich_su_dia_li", 105),
    ("khtn", 140),
    ("cong_nghe", 52),
    ("tin_hoc", 35),
    ("gdtc", 70),
    ("nghe_thuat", 70),
    ("hdtn", 105),
    ("gddp", 35),
]
SCORED = {"ngu_van", "toan", "ngoai_ngu_1", "gdcd", "lich_su_dia_li", "khtn", "cong_nghe", "tin_hoc"}

# Grade 5, CT GDPT 2018: every subject is assessed by level (T / H / C); six have a periodic test each term.
PRIMARY_SUBJECTS: list[tuple[str, int | None]] = [
    ("tieng_viet", 245),
    ("toan", 175),
    ("ngoai_ngu_1", 140),
    ("lich_su_dia_li", 70),
    ("khoa_hoc", 70),
    ("tin_hoc_cong_nghe", 70),
    ("dao_duc", 35),
    ("am_nhac", 35),
    ("mi_thuat", 35),
    ("gdtc", 70),
    ("hdtn", 105),
]
PRIMARY_TESTED = {"tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc_cong_nghe"}
# In a primary school the homeroom teacher teaches the core subjects; specialists teach the rest.
PRIMARY_HOMEROOM_TAUGHT = {"tieng_viet", "toan", "lich_su_dia_li", "khoa_hoc", "dao_duc", "hdtn"}
# Places of birth as the form prints them (commune/district, province), drawn per student.
BIRTH_PLACES = (
    "Phường Cửa Nam, Hà Nội",
    "Phường Ba Đình, Hà Nội",
    "Xã Sóc Sơn, Hà Nội",
    "Phường Hải Châu, Đà Nẵng",
    "Xã Nghĩa Hưng, Ninh Bình",
    "Phường Thủ Dầu Một, Thành phố Hồ Chí Minh",
    "Xã Quỳnh Lưu, Nghệ An",
    "Phường Hạ Long, Quảng Ninh",
)
QUALITIES = ("yeu_nuoc", "nhan_ai", "cham_chi", "trung_thuc", "trach_nhiem")
COMPETENCIES = (
    "tu_chu_tu_hoc",
    "giao_tiep_hop_tac",
    "giai_quyet_van_de",
    "ngon_ngu",
    "tinh_toan",
    "khoa_hoc",
    "cong_nghe",
    "tin_hoc",
    "tham_mi",
    "the_chat",
)


def competencies_of(grade: int) -> tuple[str, ...]:
    """The competencies assessed in a primary grade (the gradebook's tt27.COMPETENCIES_BY_GRADE): công nghệ and tin
    học from grade 3."""
    return COMPETENCIES if grade >= 3 else tuple(c for c in COMPETENCIES if c not in ("cong_nghe", "tin_hoc"))


def regular_count(periods: int) -> int:
    return 2 if periods <= 35 else 3 if periods <= 70 else 4


@dataclass
class SampleSchool:
    school_id: str
    grade: int = 8
    year: str = "2025-2026"
    teachers: list[dict[str, Any]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    students: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    # student_id → the demo case whose year is chosen rather than drawn (CASES); kept out of the student rows, so
    # the CSV the clerk imports has the same columns for every student.
    cases: dict[str, str] = field(default_factory=dict)

    @property
    def primary(self) -> bool:
        return self.grade <= 5

    @property
    def level(self) -> str:
        return "primary" if self.primary else "lower_secondary"

    @property
    def subjects(self) -> list[tuple[str, int | None]]:
        return PRIMARY_SUBJECTS if self.primary else SUBJECTS

    @property
    def principal_id(self) -> str:
        """The principal is on the staff list too, so the form prints their name (ids are unique across schools)."""
        return f"{self.school_id}-ht"

    def students_of(self, class_id: str) -> list[dict[str, Any]]:
        return [s for s in self.students if s["class_id"] == class_id]

    def teacher_of(self, class_id: str, subject_code: str) -> str:
        return next(
            a["teacher_id"]
            for a in self.assignments
            if a["class_id"] == class_id and a["subject_code"] == subject_code
        )

    def homeroom_of(self, class_id: str) -> str:
        return next(c["homeroom_teacher_id"] for c in self.classes if c["class_id"] == class_id)


def person_name(rng: random.Random, female: bool) -> str:
    middle, given = (MIDDLE_F, GIVEN_F) if female else (MIDDLE_M, GIVEN_M)
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


def build(
    school_id: str,
    *,
    classes: int = 2,
    students_per_class: int = 45,
    grade: int = 8,
    seed: int | None = None,
    year: str = "2025-2026",
) -> SampleSchool:
    rng = random.Random(school_id if seed is None else seed)
    school = SampleSchool(school_id, grade=grade, year=year)
    # Every id starts with the whole school id, so ids stay unique across schools and read as their school.
    prefix = school_id
    teacher_ids = []
    personal_ids: set[str] = set()
    for i in range(max(14, len(school.subjects) + classes)):
        tid = f"{prefix}-gv{i + 1:03d}"
        teacher_ids.append(tid)
        school.teachers.append({"teacher_id": tid, "full_name": person_name(rng, rng.random() < 0.7)})
    for c in range(classes):
        class_id = f"{prefix}-{grade}a{c + 1}"
        school.classes.append(
            {
                "class_id": class_id,
                "name": f"{grade}A{c + 1}",
                "grade": grade,
                "homeroom_teacher_id": teacher_ids[c],
            }
        )
        for s, (code, periods) in enumerate(school.subjects):
            if school.primary:
                specialist = teacher_ids[classes + s % (len(teacher_ids) - classes)]
                teacher = teacher_ids[c] if code in PRIMARY_HOMEROOM_TAUGHT else specialist
            else:
                teacher = teacher_ids[(c + s) % len(teacher_ids)]
            school.assignments.append(
                {
                    "class_id": class_id,
                    "subject_code": code,
                    "teacher_id": teacher,
                    "periods_per_year": periods,
                }
            )
        birth_year = int(year[:4]) - grade - 6
        # Số đăng bộ: the register number given when the student entered the level (grade 1 or grade 6).
        entered = int(school.year[:4]) - (grade - (1 if school.primary else 6 if grade <= 9 else 10))
        for n in range(students_per_class):
            female = rng.random() < 0.5
            birth = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
            serial = rng.randint(0, 999999)
            # Drawn at random, two of a school's ~100 students share one about once in 500 schools, and the
            # gradebook rightly refuses the second: the next free serial instead (no extra draw, so every other
            # value stays what it was).
            while (pid := f"001{3 if female else 2}{birth_year % 100:02d}{serial:06d}") in personal_ids:
                serial = (serial + 1) % 1_000_000
            personal_ids.add(pid)
            school.students.append(
                {
                    "student_id": f"{class_id}-hs{n + 1:02d}",
                    "class_id": class_id,
                    "roll_number": n + 1,
                    "moet_code": f"{rng.randint(10**9, 10**10 - 1)}",
                    "full_name": person_name(rng, female),
                    "gender": "Nữ" if female else "Nam",
                    "birth_date": birth.isoformat(),
                    "ethnicity": "Kinh",
                    "personal_id": pid,
                    # Their own generators, so adding them left every other drawn value what it was.
                    "birth_place": random.Random(f"{class_id}-{n}:birth_place").choice(BIRTH_PLACES),
                    "register_number": f"{c * students_per_class + n + 1:03d}/{entered}",
                }
            )
    # Drawn last, so the rest of the school stays what it was before the principal joined the list.
    school.teachers.append(
        {"teacher_id": school.principal_id, "full_name": person_name(rng, rng.random() < 0.5)}
    )
    return school


# The demo's cases (issue 17): one student each whose year is chosen, not drawn, so its path is known in advance.
RETEST, SUMMER_CONDUCT, EXEMPT, TRANSFERRED = "retest", "summer_conduct", "exempt", "transferred"
CASES = (RETEST, SUMMER_CONDUCT, EXEMPT, TRANSFERRED)
RETEST_SUBJECT = "toan"  # failed at year end (3.0), re-tested in the summer
EXEMPT_SUBJECT = "gdtc"  # exempted for the whole year by the principal's decision
# A lower-secondary student who joins after term I: term II only is entered here (term I is the sending school's).
MIDYEAR = "midyear"
# A grade 1-4 pupil not complete at year end (TT27 art. 11): Toán at level C (test 4) and chăm chỉ at Cần cố gắng in
# term II; re-assessed in the summer.
SUPPLEMENTARY = "supplementary"
SUPPLEMENTARY_SUBJECT = "toan"
SUPPLEMENTARY_QUALITY = "cham_chi"


def grade_of(school: SampleSchool, class_id: str) -> int:
    return int(next(c["grade"] for c in school.classes if c["class_id"] == class_id))


def add_class(school: SampleSchool, grade: int, students: int) -> str:
    """Another class, of another grade, after every class ``build`` made (a primary school's grade-4 class beside
    its grade-5 ones): a homeroom teacher of its own, the first class's teachers for the other subjects, and
    ``students`` pupils drawn from generators of their own, so everything ``build`` made keeps what it drew."""
    number = 1 + sum(1 for c in school.classes if c["grade"] == grade)
    class_id = f"{school.school_id}-{grade}a{number}"
    rng = random.Random(f"{class_id}:class")
    homeroom = f"{school.school_id}-gv{1 + sum(1 for t in school.teachers if '-gv' in t['teacher_id']):03d}"
    school.teachers.append({"teacher_id": homeroom, "full_name": person_name(rng, rng.random() < 0.7)})
    first = school.classes[0]["class_id"]
    school.classes.append(
        {"class_id": class_id, "name": f"{grade}A{number}", "grade": grade, "homeroom_teacher_id": homeroom}
    )
    for code, periods in school.subjects:
        taught = school.primary and code in PRIMARY_HOMEROOM_TAUGHT
        school.assignments.append(
            {
                "class_id": class_id,
                "subject_code": code,
                "teacher_id": homeroom if taught else school.teacher_of(first, code),
                "periods_per_year": periods,
            }
        )
    for _ in range(students):
        add_student(school, class_id, None)
    return class_id


def add_student(
    school: SampleSchool, class_id: str, case: str | None, like: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One more student at the end of ``class_id``, for a demo ``case`` (None: an ordinary, drawn one): drawn from a
    generator of their own, so every student ``build`` made keeps what it drew. ``like``: the same person as another
    school's student (a transfer: name, birth, MOET code and personal ID travel with them; the ids are this school's
    own)."""
    roll = len(school.students_of(class_id)) + 1
    student_id = f"{class_id}-hs{roll:02d}"
    rng = random.Random(f"{student_id}:{case}" if case else f"{student_id}:drawn")
    grade = grade_of(school, class_id)
    entered = int(school.year[:4]) - (grade - (1 if school.primary else 6 if grade <= 9 else 10))
    if like is None:
        female = rng.random() < 0.5
        birth_year = int(school.year[:4]) - grade - 6
        taken = {s["personal_id"] for s in school.students}
        serial = rng.randint(0, 999999)
        while (pid := f"001{3 if female else 2}{birth_year % 100:02d}{serial:06d}") in taken:
            serial = (serial + 1) % 1_000_000
        person = {
            "moet_code": f"{rng.randint(10**9, 10**10 - 1)}",
            "full_name": person_name(rng, female),
            "gender": "Nữ" if female else "Nam",
            "birth_date": date(birth_year, rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
            "ethnicity": "Kinh",
            "personal_id": pid,
            "birth_place": rng.choice(BIRTH_PLACES),
        }
    else:
        person = {
            k: like[k]
            for k in (
                "moet_code",
                "full_name",
                "gender",
                "birth_date",
                "ethnicity",
                "personal_id",
                "birth_place",
            )
        }
    student = {
        "student_id": student_id,
        "class_id": class_id,
        "roll_number": roll,
        **person,
        "register_number": f"{len(school.students) + 1:03d}/{entered}",
    }
    order = list(school.students[0]) if school.students else list(student)
    school.students.append({k: student[k] for k in order})
    if case is not None:
        school.cases[student_id] = case
    return student


def _primary_case_entry(case: str, subject_code: str, term: str) -> dict[str, Any]:
    """A primary case pupil's term of one subject: Hoàn thành with a test of 7, but the supplementary pupil's term
    II Toán: Chưa hoàn thành with a test of 4."""
    weak = case == SUPPLEMENTARY and subject_code == SUPPLEMENTARY_SUBJECT and term == "hk2"
    return {"level": "C" if weak else "H"} | (
        {"test": 4 if weak else 7} if subject_code in PRIMARY_TESTED else {}
    )


def _case_entry(case: str, subject_code: str) -> dict[str, Any] | None:
    """A case student's whole term of one subject: 8 everywhere (6 for the re-test student, 3.0 in the re-test
    subject); none for an exempt subject (the principal's decision: no teacher enters it)."""
    if case == EXEMPT and subject_code == EXEMPT_SUBJECT:
        return None
    if subject_code not in SCORED:
        return {
            "regular": ["Đ"] * (regular_count(dict(SUBJECTS)[subject_code] or 35)),
            "midterm": "Đ",
            "final": "Đ",
        }
    # The re-test student is a 6.0 student with Toán 3.0: one level below what the others alone give, so TT22 art. 9
    # §3 does not lift it (it lifts a result only one subject pulls down by two levels or more), and the year is
    # Chưa đạt with a re-test in Toán.
    score = ("3" if subject_code == RETEST_SUBJECT else "6") if case == RETEST else "8"
    return {
        "regular": [score] * regular_count(dict(SUBJECTS)[subject_code] or 35),
        "midterm": score,
        "final": score,
    }


def marks_for(
    school: SampleSchool, class_id: str, subject_code: str, term: str, seed: int = 0
) -> list[dict[str, Any]]:
    """A teacher's full entry for the class: plausible marks around each student's own level."""
    periods = dict(school.subjects)[subject_code] or 35
    entries = []
    for s in school.students_of(class_id):
        case = school.cases.get(s["student_id"])
        if case is not None and school.primary:
            entries.append({"student_id": s["student_id"], **_primary_case_entry(case, subject_code, term)})
            continue
        if case is not None:
            # A student who joined after term I has no term I here: it is the sending school's.
            chosen = None if case == MIDYEAR and term == "hk1" else _case_entry(case, subject_code)
            if chosen is not None:
                entries.append({"student_id": s["student_id"], **chosen})
            continue
        rng = random.Random(f"{s['student_id']}:{subject_code}:{term}:{seed}")
        level = random.Random(s["student_id"]).uniform(5.5, 9.5)
        if school.primary:
            entry: dict[str, Any] = {
                "student_id": s["student_id"],
                "level": "T" if level + rng.gauss(0, 0.5) >= 8 else "H",
            }
            if subject_code in PRIMARY_TESTED:
                entry["test"] = int(min(10, max(5, round(rng.gauss(level, 1.0)))))
            entries.append(entry)
        elif subject_code in SCORED:

            def mark() -> str:
                return str(round(min(10.0, max(0.0, rng.gauss(level, 1.0))) * 2) / 2)  # noqa: B023

            entries.append(
                {
                    "student_id": s["student_id"],
                    "regular": [mark() for _ in range(regular_count(periods))],
                    "midterm": mark(),
                    "final": mark(),
                }
            )
        else:
            # Each assessment Đ or CĐ; the term is Đạt only when every one is (TT22 art. 9 §1a), so a weaker student
            # misses one about as often as the earlier typed results had them fail.
            count = regular_count(periods) + 2
            marks = ["Đ"] * count
            if not (level > 5.8 or rng.random() < 0.8):
                marks[rng.randrange(count)] = "CĐ"
            entries.append(
                {
                    "student_id": s["student_id"],
                    "regular": marks[:-2],
                    "midterm": marks[-2],
                    "final": marks[-1],
                }
            )
    return entries


def homeroom_for(school: SampleSchool, class_id: str, term: str) -> list[dict[str, Any]]:
    entries = []
    competencies = competencies_of(grade_of(school, class_id))
    for s in school.students_of(class_id):
        rng = random.Random(f"{s['student_id']}:{term}:homeroom")
        case = school.cases.get(s["student_id"])
        if case == MIDYEAR and term == "hk1":
            continue  # term I is the sending school's
        if school.primary and case is not None:
            weak = {SUPPLEMENTARY_QUALITY: "C"} if case == SUPPLEMENTARY and term == "hk2" else {}
            entries.append(
                {
                    "student_id": s["student_id"],
                    "qualities": dict.fromkeys(QUALITIES, "Đ") | weak,
                    "competencies": dict.fromkeys(competencies, "Đ"),
                    "absences": 1,
                    "homeroom_comment": "Cần cố gắng hơn ở môn Toán và tính chăm chỉ.",
                }
            )
            continue
        if school.primary:
            entries.append(
                {
                    "student_id": s["student_id"],
                    "qualities": {k: rng.choice(["T", "T", "Đ"]) for k in QUALITIES},
                    "competencies": {k: rng.choice(["T", "T", "Đ"]) for k in competencies},
                    "absences": rng.randint(0, 4),
                    "homeroom_comment": "Ngoan, lễ phép, tích cực tham gia các hoạt động của lớp.",
                }
            )
            continue
        conduct = rng.choice(["Tốt", "Tốt", "Tốt", "Khá", "Đạt"])
        entries.append(
            {
                "student_id": s["student_id"],
                # A case student's conduct is chosen: Chưa đạt sends them to summer training (TT22 art. 13).
                "conduct": ("Chưa đạt" if case == SUMMER_CONDUCT else "Tốt") if case else conduct,
                "absences": rng.randint(0, 6),
                "homeroom_comment": "Chăm ngoan, tích cực tham gia hoạt động của lớp.",
            }
        )
    return entries


def next_year(school: SampleSchool, year: str, leaving: set[str]) -> SampleSchool:
    """The school a year on: each class one grade up (its id and name anew), the same teachers and assignments, its
    students but ``leaving`` in the class they move up to, under their own ids (one student row per school for
    life)."""
    grade = school.grade + 1
    moved = SampleSchool(
        school.school_id, grade=grade, year=year, teachers=[dict(t) for t in school.teachers]
    )
    renamed = {}
    for n, c in enumerate(school.classes):
        renamed[c["class_id"]] = class_id = f"{school.school_id}-{grade}a{n + 1}"
        moved.classes.append({**c, "class_id": class_id, "name": f"{grade}A{n + 1}", "grade": grade})
    moved.assignments = [{**a, "class_id": renamed[a["class_id"]]} for a in school.assignments]
    rolls: dict[str, int] = {}
    for s in school.students:
        if s["student_id"] not in leaving:
            class_id = renamed[s["class_id"]]
            rolls[class_id] = rolls.get(class_id, 0) + 1
            moved.students.append({**s, "class_id": class_id, "roll_number": rolls[class_id]})
    return moved


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # what Excel's "CSV UTF-8" writes


def load_via_api(
    base_url: str, school: SampleSchool, token: Any, name: str = "Trường THCS Nguyễn Du"
) -> None:
    """Declare the school as an operator, then import its master data as the school's clerk would (CSV files).

    ``token(user_id, roles, school_id)`` returns a bearer token.
    """
    from services.runtime import http_client

    def auth(user: str, roles: list[str], school_id: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(user, roles, school_id)}"}

    with http_client.client(base_url=base_url, timeout=60) as http:
        r = http.put(
            f"/schools/{school.school_id}",
            headers=auth("sys-op", ["operator"], None),
            json={
                "name": name,
                "level": school.level,
                "province": "Hà Nội",
                "current_year": school.year,
            },
        )
        r.raise_for_status()
        for kind, rows in (
            ("teachers", school.teachers),
            ("classes", school.classes),
            ("students", school.students),
            ("assignments", school.assignments),
        ):
            r = http.post(
                f"/schools/{school.school_id}/imports/{kind}",
                content=to_csv(rows),
                headers={**auth("van-thu", ["staff"], school.school_id), "Content-Type": "text/csv"},
            )
            if r.status_code != 201:
                raise RuntimeError(f"import of {kind} failed: {r.status_code} {r.text[:500]}")
