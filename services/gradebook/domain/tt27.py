"""Circular 27/2020 (primary): subject levels, periodic tests, qualities and competencies, year-end result."""

from __future__ import annotations

from collections.abc import Mapping

from services.gradebook.domain.tt22 import Explained

SUBJECT_LEVELS = {"T": "Hoàn thành tốt", "H": "Hoàn thành", "C": "Chưa hoàn thành"}
QUALITY_LEVELS = {"T": "Tốt", "Đ": "Đạt", "C": "Cần cố gắng"}
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
# Art. 7: periodic tests at the end of term I and of the year (the last four where the grade has the subject).
TESTED = ("tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc_cong_nghe")
RESULTS = ("Chưa hoàn thành", "Hoàn thành", "Hoàn thành tốt", "Hoàn thành xuất sắc")


def needs_test(code: str) -> bool:
    return code in TESTED


def year_result(
    subject_levels: Mapping[str, str],
    qualities: Mapping[str, str],
    competencies: Mapping[str, str],
    year_tests: Mapping[str, int],
    names: Mapping[str, str],
) -> Explained:
    """Art. 9 §2: the homeroom teacher's year-end result, from the year levels, qualities, competencies, tests."""
    levels = set(subject_levels.values())
    traits = {**qualities, **competencies}
    trait_levels = set(traits.values())
    lowest_test = min(year_tests.values()) if year_tests else None
    tests = ", ".join(f"{names.get(c, c)} {t}" for c, t in year_tests.items()) or "không có bài kiểm tra"
    not_t = [names.get(c, c) for c, lvl in subject_levels.items() if lvl != "T"]
    not_tot = [k for k, v in traits.items() if v != "T"]

    def tests_at_least(score: int) -> bool:
        return lowest_test is None or lowest_test >= score

    if levels <= {"T"} and trait_levels <= {"T"} and tests_at_least(9):
        value, why = (
            "Hoàn thành xuất sắc",
            f"mọi môn Hoàn thành tốt, mọi phẩm chất, năng lực Tốt, bài kiểm tra cuối năm ≥ 9 ({tests})",
        )
    elif levels <= {"T"} and trait_levels <= {"T"} and tests_at_least(7):
        value, why = (
            "Hoàn thành tốt",
            f"mọi môn Hoàn thành tốt, mọi phẩm chất, năng lực Tốt, bài kiểm tra cuối năm ≥ 7 nhưng có bài dưới 9 ({tests})",
        )
    elif levels <= {"T", "H"} and trait_levels <= {"T", "Đ"} and tests_at_least(5):
        reasons = []
        if not_t:
            reasons.append(f"môn chưa Hoàn thành tốt: {', '.join(not_t)}")
        if not_tot:
            reasons.append(f"phẩm chất, năng lực chưa Tốt: {', '.join(not_tot)}")
        if lowest_test is not None and lowest_test < 7:
            reasons.append(f"bài kiểm tra thấp nhất {lowest_test}")
        value, why = "Hoàn thành", "; ".join(reasons) or f"bài kiểm tra cuối năm: {tests}"
    else:
        reasons = []
        if "C" in levels:
            reasons.append(
                "có môn Chưa hoàn thành: "
                + ", ".join(names.get(c, c) for c, lvl in subject_levels.items() if lvl == "C")
            )
        if "C" in trait_levels:
            reasons.append(
                "có phẩm chất, năng lực Cần cố gắng: " + ", ".join(k for k, v in traits.items() if v == "C")
            )
        if lowest_test is not None and lowest_test < 5:
            reasons.append(f"có bài kiểm tra cuối năm dưới 5 ({tests})")
        value, why = "Chưa hoàn thành", "; ".join(reasons)
    return Explained(value, f"{value} vì {why} (khoản 2 Điều 9)")


def award(result: str) -> Explained:
    """Art. 13: Học sinh Xuất sắc for Hoàn thành xuất sắc; the other award needs the class's recognition."""
    if result == "Hoàn thành xuất sắc":
        return Explained("Học sinh Xuất sắc", "Hoàn thành xuất sắc → khen thưởng Học sinh Xuất sắc (Điều 13)")
    return Explained(
        None, "Khen thưởng Học sinh Tiêu biểu do tập thể lớp đề nghị, không tính tự động (Điều 13)"
    )
