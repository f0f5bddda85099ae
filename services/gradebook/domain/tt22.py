"""Circular 22/2021 (secondary): term and year averages, learning and conduct results, promotion, awards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.gradebook.domain.rounding import round1, vn, vn_plain

LEVELS = ("Chưa đạt", "Đạt", "Khá", "Tốt")  # ascending
PASS, FAIL = "Đ", "CĐ"


def rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class Explained:
    """A computed value and, in Vietnamese, the rule and the numbers behind it."""

    value: Any
    why: str


# -- one subject ---------------------------------------------------------------------------------------------------


def term_average(regular: Sequence[Decimal], midterm: Decimal, final: Decimal) -> Explained:
    """Art. 9 §1: ĐTBmhk = (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (số ĐĐGtx + 5), rounded to one decimal half up."""
    total = sum(regular, Decimal(0)) + 2 * midterm + 3 * final
    count = len(regular) + 5
    exact = total / count
    value = round1(exact)
    parts = " + ".join(vn(r) for r in regular)
    why = (
        f"ĐTBmhk = ({parts} + 2·{vn(midterm)} + 3·{vn(final)}) / {count} = {vn_plain(total)} / {count} "
        f"= {vn(exact.quantize(Decimal('0.001')))}… → {vn(value)} (Điều 9 khoản 1)"
    )
    return Explained(value, why)


def year_average(hk1: Decimal, hk2: Decimal) -> Explained:
    """Art. 9 §1: ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3, from the rounded term averages."""
    exact = (hk1 + 2 * hk2) / 3
    value = round1(exact)
    return Explained(
        value,
        f"ĐTBmcn = ({vn(hk1)} + 2·{vn(hk2)}) / 3 = {vn_plain(hk1 + 2 * hk2)} / 3 "
        f"= {vn(exact.quantize(Decimal('0.001')))}… → {vn(value)} (Điều 9 khoản 1)",
    )


def comment_term_result(assessments: Sequence[str], final: str) -> Explained:
    """Art. 9: Đạt when the end-of-term assessment is Đ and at least 2/3 of all the term's assessments are Đ."""
    passed = sum(1 for a in assessments if a == PASS)
    ok = final == PASS and 3 * passed >= 2 * len(assessments)
    why = (
        f"{passed}/{len(assessments)} lần đánh giá Đạt, cuối kỳ {'Đạt' if final == PASS else 'Chưa đạt'} → "
        f"{'Đạt' if ok else 'Chưa đạt'} (cần cuối kỳ Đạt và ít nhất 2/3 số lần Đạt, Điều 9)"
    )
    return Explained(PASS if ok else FAIL, why)


# -- learning result (kết quả học tập) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Results of every subject for one period (a term or the year): averages and comment results."""

    scored: Mapping[str, Decimal]  # subject code → average
    commented: Mapping[str, str]  # subject code → Đ / CĐ
    names: Mapping[str, str]


def _level(scored: Mapping[str, Decimal], commented: Mapping[str, str]) -> str:
    values = list(scored.values())
    all_pass = all(r == PASS for r in commented.values())
    if all_pass and all(v >= Decimal("6.5") for v in values) and sum(v >= 8 for v in values) >= 6:
        return "Tốt"
    if all_pass and all(v >= 5 for v in values) and sum(v >= Decimal("6.5") for v in values) >= 6:
        return "Khá"
    if (
        sum(r == FAIL for r in commented.values()) <= 1
        and sum(v >= 5 for v in values) >= 6
        and all(v >= Decimal("3.5") for v in values)
    ):
        return "Đạt"
    return "Chưa đạt"


def learning_result(period: Period) -> Explained:
    """Art. 9 §2 with the §3 adjustment, as the project decided it (rules.md)."""
    computed = _level(period.scored, period.commented)
    scored, commented = period.scored, period.commented
    n8 = sum(v >= 8 for v in scored.values())
    n65 = sum(v >= Decimal("6.5") for v in scored.values())
    n5 = sum(v >= 5 for v in scored.values())
    fails = [c for c, r in commented.items() if r == FAIL]
    facts = (
        f"{len(scored)} môn tính điểm: {n8} môn ≥ 8,0; {n65} môn ≥ 6,5; {n5} môn ≥ 5,0; "
        f"thấp nhất {vn(min(scored.values())) if scored else '—'}; "
        f"{len(fails)} môn nhận xét Chưa đạt"
    )
    culprits = _culprits(period, computed)
    if len(culprits) == 1:
        code, would = culprits[0]
        adjusted = LEVELS[rank(computed) + 1]
        value = scored.get(code, commented.get(code))
        shown = vn(value) if isinstance(value, Decimal) else ("Chưa đạt" if value == FAIL else value)
        why = (
            f"{adjusted} vì theo bảng chỉ đạt {computed} ({facts}); chỉ riêng môn {period.names.get(code, code)} "
            f"({shown}) làm tụt từ {would} xuống {computed} nên được nâng lên {adjusted} theo khoản 3 Điều 9"
        )
        return Explained(adjusted, why)
    return Explained(computed, f"{computed} vì {facts} (khoản 2 Điều 9)")


def _culprits(period: Period, computed: str) -> list[tuple[str, str]]:
    """Art. 9 §3: each subject that alone pulls the level down two or more from a Tốt or Khá it would allow
    (the level computed as if that subject met every threshold)."""
    found = []
    for code in [*period.scored, *period.commented]:
        would = _level(
            {**period.scored, **({code: Decimal(10)} if code in period.scored else {})},
            {**period.commented, **({code: PASS} if code in period.commented else {})},
        )
        if would in ("Tốt", "Khá") and rank(would) - rank(computed) >= 2:
            found.append((code, would))
    return found


def adjustment_subject(period: Period) -> str | None:
    """The subject that triggered the §3 adjustment, if there was one (recorded beside the result)."""
    culprits = _culprits(period, _level(period.scored, period.commented))
    return culprits[0][0] if len(culprits) == 1 else None


# -- conduct (kết quả rèn luyện) -----------------------------------------------------------------------------------


def conduct_year(hk1: str, hk2: str) -> Explained:
    """Art. 8: the year's conduct from the two terms."""
    if hk2 == "Tốt" and hk1 in ("Tốt", "Khá"):
        level = "Tốt"
    elif (
        (hk2 == "Khá" and hk1 in ("Tốt", "Khá", "Đạt"))
        or (hk2 == "Đạt" and hk1 == "Tốt")
        or (hk2 == "Tốt" and hk1 in ("Đạt", "Chưa đạt"))
    ):
        level = "Khá"
    elif (hk2 == "Đạt" and hk1 in ("Khá", "Đạt", "Chưa đạt")) or (hk2 == "Khá" and hk1 == "Chưa đạt"):
        level = "Đạt"
    else:
        level = "Chưa đạt"
    return Explained(level, f"Học kỳ I {hk1}, học kỳ II {hk2} → cả năm {level} (Điều 8)")


# -- promotion and awards ------------------------------------------------------------------------------------------

MAX_ABSENCES = 45


def promotion(
    grade: int, conduct: str, learning: str, absences: int, retest_subjects: Sequence[str]
) -> Explained:
    """Art. 12–14. Absent more than 45 sessions → repeats; otherwise re-test and/or summer training."""
    if absences > MAX_ABSENCES:
        return Explained(
            {"outcome": "ở lại lớp", "retest_subjects": []},
            f"Nghỉ {absences} buổi (quá {MAX_ABSENCES} buổi) → ở lại lớp (Điều 12)",
        )
    if rank(conduct) >= 1 and rank(learning) >= 1:
        done = "hoàn thành chương trình" if grade in (9, 12) else "lên lớp"
        return Explained(
            {"outcome": done, "retest_subjects": []},
            f"Rèn luyện {conduct}, học tập {learning}, nghỉ {absences} buổi → {done} (Điều 12)",
        )
    outcomes = []
    if rank(learning) == 0:
        outcomes.append("kiểm tra lại")
    if rank(conduct) == 0:
        outcomes.append("rèn luyện trong kì nghỉ hè")
    outcome = " và ".join(outcomes)
    retest = list(retest_subjects) if rank(learning) == 0 else []
    return Explained(
        {"outcome": outcome, "retest_subjects": retest},
        f"Rèn luyện {conduct}, học tập {learning} → {outcome}"
        + (f" các môn: {', '.join(retest)}" if retest else "")
        + " (Điều 13, 14)",
    )


def award(conduct: str, learning: str, year_averages: Sequence[Decimal]) -> Explained:
    """Art. 15: Xuất sắc — conduct and learning Tốt with at least 6 scored subjects at 9.0 or more; Giỏi — both Tốt."""
    n9 = sum(v >= 9 for v in year_averages)
    if conduct == "Tốt" and learning == "Tốt":
        if n9 >= 6:
            return Explained(
                "Học sinh Xuất sắc", f"Rèn luyện Tốt, học tập Tốt, {n9} môn ĐTBmcn ≥ 9,0 (Điều 15)"
            )
        return Explained(
            "Học sinh Giỏi", f"Rèn luyện Tốt, học tập Tốt, {n9} môn ≥ 9,0 (cần 6 cho Xuất sắc) (Điều 15)"
        )
    return Explained(
        None, f"Rèn luyện {conduct}, học tập {learning}: chưa đủ điều kiện khen thưởng (Điều 15)"
    )
