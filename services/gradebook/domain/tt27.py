"""Circular 27/2020 (primary): subject levels, periodic tests, qualities and competencies, year-end result."""

from __future__ import annotations

from collections.abc import Mapping

from services.gradebook.domain.explain import Explained

SUBJECT_LEVELS = {"T": "Hoàn thành tốt", "H": "Hoàn thành", "C": "Chưa hoàn thành"}
QUALITY_LEVELS = {"T": "Tốt", "Đ": "Đạt", "C": "Cần cố gắng"}
QUALITY_NAMES = {
    "yeu_nuoc": "yêu nước",
    "nhan_ai": "nhân ái",
    "cham_chi": "chăm chỉ",
    "trung_thuc": "trung thực",
    "trach_nhiem": "trách nhiệm",
}
# Art. 7 §2b: the core competencies (năng lực cốt lõi), general then specific, in the circular's order.
GENERAL_COMPETENCY_NAMES = {
    "tu_chu_tu_hoc": "tự chủ và tự học",
    "giao_tiep_hop_tac": "giao tiếp và hợp tác",
    "giai_quyet_van_de": "giải quyết vấn đề và sáng tạo",
}
SPECIFIC_COMPETENCY_NAMES = {
    "ngon_ngu": "ngôn ngữ",
    "tinh_toan": "tính toán",
    "khoa_hoc": "khoa học",
    "cong_nghe": "công nghệ",
    "tin_hoc": "tin học",
    "tham_mi": "thẩm mĩ",
    "the_chat": "thể chất",
}
COMPETENCY_NAMES = {**GENERAL_COMPETENCY_NAMES, **SPECIFIC_COMPETENCY_NAMES}
# The competencies assessed in each grade: the one table validation, the year result and the supplementary
# assessment read (issue 17 item 8: data per grade, not a constant). Decision: công nghệ and tin học are assessed
# from grade 3, the first grade of Tin học và Công nghệ (TAUGHT below, CT GDPT 2018), the subject through which the
# programme forms them; grades 1–2 assess the three general competencies and ngôn ngữ, tính toán, khoa học, thẩm mĩ,
# thể chất. Art. 7 §2b lists the seven specific ones without naming grades: reading them per grade from the subjects
# that form them is the project's decision where the circular is silent; a grade 1–2 entry for công nghệ or tin học
# is refused.
_EVERY = tuple(COMPETENCY_NAMES)
_NO_TECHNOLOGY = tuple(c for c in _EVERY if c not in ("cong_nghe", "tin_hoc"))
COMPETENCIES_BY_GRADE: Mapping[int, tuple[str, ...]] = {
    1: _NO_TECHNOLOGY,
    2: _NO_TECHNOLOGY,
    3: _EVERY,
    4: _EVERY,
    5: _EVERY,
}
QUALITIES = tuple(QUALITY_NAMES)
COMPETENCIES = tuple(
    COMPETENCY_NAMES
)  # every competency some grade assesses; one grade's: competencies(grade)
TRAIT_NAMES = {**QUALITY_NAMES, **COMPETENCY_NAMES}
RESULTS = ("Chưa hoàn thành", "Hoàn thành", "Hoàn thành tốt", "Hoàn thành xuất sắc")  # ascending

# CT GDPT 2018, primary: the grades that teach each subject. Ngoại ngữ 1 is compulsory from grade 3 and an
# elective in grades 1–2, which is why it has two entries below.
TAUGHT = {
    "tieng_viet": range(1, 6),
    "toan": range(1, 6),
    "ngoai_ngu_1": range(1, 6),
    "lich_su_dia_li": range(4, 6),
    "khoa_hoc": range(4, 6),
    "tin_hoc_cong_nghe": range(3, 6),
    "dao_duc": range(1, 6),
    "tu_nhien_xa_hoi": range(1, 4),
    "am_nhac": range(1, 6),
    "mi_thuat": range(1, 6),
    "gdtc": range(1, 6),
    "hdtn": range(1, 6),
}
# Art. 7 §2: a periodic test at the end of term I and of the year in the compulsory subjects below.
TESTED = {
    "tieng_viet": range(1, 6),
    "toan": range(1, 6),
    "ngoai_ngu_1": range(3, 6),
    "lich_su_dia_li": range(4, 6),
    "khoa_hoc": range(4, 6),
    "tin_hoc_cong_nghe": range(3, 6),
}
# Decision: the elective Ngoại ngữ 1 of grades 1–2 has no required test, but a school that gives one may record it.
OPTIONAL_TEST = {"ngoai_ngu_1": range(1, 3)}
# Art. 7 §2: grades 4 and 5 also have mid-term tests in Tiếng Việt and Toán (they do not enter the year result).
MIDTERM_TESTED = {"tieng_viet": range(4, 6), "toan": range(4, 6)}


def competencies(grade: int) -> tuple[str, ...]:
    """The competencies a pupil of ``grade`` is assessed on (COMPETENCIES_BY_GRADE), in the circular's order."""
    return COMPETENCIES_BY_GRADE[grade]


def needs_test(code: str, grade: int | None = None) -> bool:
    """Whether the subject must have its end-of-term periodic tests (in ``grade``, when given)."""
    return code in TESTED and (grade is None or grade in TESTED[code])


def may_have_test(code: str, grade: int) -> bool:
    return needs_test(code, grade) or grade in OPTIONAL_TEST.get(code, ())


def has_midterm_test(code: str, grade: int) -> bool:
    return grade in MIDTERM_TESTED.get(code, ())


def taught_in(code: str, grade: int) -> bool | None:
    """Whether the programme teaches ``code`` in ``grade``; None for a code outside the contract's list."""
    return grade in TAUGHT[code] if code in TAUGHT else None


def year_level(hk1: str | None, hk2: str, name: str) -> Explained:
    """The year level of a subject is its end-of-year (term II) assessment: TT27 assesses at the end of the year.
    ``hk1`` None: term I's level is not recorded (yet); the year does not depend on it."""
    first = f"cuối học kỳ I {SUBJECT_LEVELS[hk1]}, " if hk1 is not None else ""
    return Explained(
        hk2,
        f"{name}: {first}cuối năm học {SUBJECT_LEVELS[hk2]} → cả năm "
        f"{SUBJECT_LEVELS[hk2]} (theo đánh giá cuối năm học, Điều 9)",
    )


# Each level's floor: (subject levels allowed, quality/competency levels allowed, lowest end-of-year test).
_FLOORS = {
    "Hoàn thành xuất sắc": ({"T"}, {"T"}, 9),
    "Hoàn thành tốt": ({"T"}, {"T"}, 7),
    "Hoàn thành": ({"T", "H"}, {"T", "Đ"}, 5),
}


def _unmet(
    level: str,
    subject_levels: Mapping[str, str],
    traits: Mapping[str, str],
    year_tests: Mapping[str, int],
    names: Mapping[str, str],
) -> list[str]:
    """The conditions of ``level`` (art. 9 §2) that are missed, in Vietnamese; empty when the student qualifies."""
    subjects_ok, traits_ok, lowest = _FLOORS[level]
    missing = []
    below = [c for c, lvl in subject_levels.items() if lvl not in subjects_ok]
    if below:
        missing.append(
            "môn " + ", ".join(f"{names.get(c, c)} {SUBJECT_LEVELS[subject_levels[c]]}" for c in below)
        )
    weak = [k for k, v in traits.items() if v not in traits_ok]
    if weak:
        missing.append(
            "phẩm chất, năng lực "
            + ", ".join(f"{TRAIT_NAMES.get(k, k)} {QUALITY_LEVELS[traits[k]]}" for k in weak)
        )
    low = [c for c, t in year_tests.items() if t < lowest]
    if low:
        missing.append(
            f"bài kiểm tra cuối năm dưới {lowest}: "
            + ", ".join(f"{names.get(c, c)} {year_tests[c]}" for c in low)
        )
    return missing


def year_result(
    subject_levels: Mapping[str, str],
    qualities: Mapping[str, str],
    competencies: Mapping[str, str],
    year_tests: Mapping[str, int],
    names: Mapping[str, str],
) -> Explained:
    """Art. 9 §2: the homeroom teacher's year-end result, from the year levels, qualities, competencies, tests.

    A student without any end-of-year test (no tested subject given) meets the test conditions vacuously."""
    traits = {**qualities, **competencies}
    value = next(
        (r for r in _FLOORS if not _unmet(r, subject_levels, traits, year_tests, names)), "Chưa hoàn thành"
    )
    levels = list(subject_levels.values())
    trait_levels = list(traits.values())
    facts = (
        f"{len(levels)} môn: "
        + ", ".join(f"{levels.count(k)} {v}" for k, v in SUBJECT_LEVELS.items())
        + "; phẩm chất, năng lực: "
        + ", ".join(f"{trait_levels.count(k)} {v}" for k, v in QUALITY_LEVELS.items())
        + "; bài kiểm tra cuối năm: "
        + (", ".join(f"{names.get(c, c)} {t}" for c, t in year_tests.items()) or "không có")
    )
    if value != RESULTS[-1]:
        higher = RESULTS[RESULTS.index(value) + 1]
        facts += f"; chưa đạt mức {higher} vì " + "; ".join(
            _unmet(higher, subject_levels, traits, year_tests, names)
        )
    return Explained(value, f"{value} vì {facts} (khoản 2 Điều 9)")


def award(result: str) -> Explained:
    """Art. 13: Học sinh Xuất sắc for Hoàn thành xuất sắc. Học sinh Tiêu biểu also needs an outstanding subject or
    clear progress recognised by the class, which no rule can compute: it is left to the school (value None)."""
    if result == "Hoàn thành xuất sắc":
        return Explained("Học sinh Xuất sắc", "Hoàn thành xuất sắc → khen thưởng Học sinh Xuất sắc (Điều 13)")
    if result == "Hoàn thành tốt":
        return Explained(
            None,
            "Hoàn thành tốt: có thể được khen Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện nếu có "
            "môn học nổi bật hoặc tiến bộ rõ rệt và được tập thể lớp công nhận; không tính tự động (Điều 13)",
        )
    return Explained(None, f"{result}: chưa đủ điều kiện khen thưởng (Điều 13)")


COMPLETE_LEVELS = ("Hoàn thành xuất sắc", "Hoàn thành tốt", "Hoàn thành")


def completion(grade: int, result: str) -> Explained:
    """The principal confirms completion (xác nhận hoàn thành chương trình lớp học; grade 5: tiểu học) for every
    pupil whose year result is Hoàn thành or better (rules.md "Completion")."""
    if result in COMPLETE_LEVELS:
        done = "Hoàn thành chương trình tiểu học" if grade == 5 else "Hoàn thành chương trình lớp học"
        return Explained(done, f"{result} → {done}")
    return Explained(
        "Chưa hoàn thành chương trình lớp học", f"{result} → chưa hoàn thành chương trình lớp {grade}"
    )


def reporting_cutoff(grade: int, complete: bool) -> Explained:
    """Seed 004 §2.1: a pupil confirmed complete is reported before 30 June; a grade 1–4 pupil not yet complete is
    re-assessed over the summer and reported before 15 August. A grade-5 pupil not complete stays on 30 June: seed
    004 names only grades 1–4 for the later path, and the record carries the "not complete" decision."""
    if complete:
        return Explained("06-30", "hoàn thành → báo cáo trước 30/6")
    if grade <= 4:
        return Explained("08-15", "chưa hoàn thành, khối 1–4 → đánh giá bổ sung trong hè, báo cáo trước 15/8")
    return Explained("06-30", "khối 5 chưa hoàn thành → báo cáo trước 30/6 cùng quyết định chưa hoàn thành")
