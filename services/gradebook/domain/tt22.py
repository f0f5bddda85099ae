"""Circular 22/2021 (secondary): term and year averages, learning and conduct results, promotion, awards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.gradebook.domain.explain import LEVEL_STEPS, TERM_ROMAN, Explained, vn, vn_plain, vn_quotient
from services.gradebook.domain.rounding import round1

LEVELS = ("Chưa đạt", "Đạt", "Khá", "Tốt")  # ascending: learning and conduct results share the four words
PASS, FAIL = "Đ", "CĐ"
MAX_ABSENCES = 45  # sessions (buổi) a year, art. 12 §1 c
MIN_SUBJECTS = 6  # "at least 6 scored subjects" in every row of the art. 9 §2 table


def rank(level: str) -> int:
    """Position of a level in ``LEVELS``: Chưa đạt 0 … Tốt 3."""
    return LEVELS.index(level)


# -- one subject ---------------------------------------------------------------------------------------------------


def term_average(
    regular: Sequence[Decimal], midterm: Decimal, final: Decimal, *, term: str | None = None
) -> Explained:
    """Art. 9 §1: ĐTBmhk = (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (số ĐĐGtx + 5), rounded to one decimal half up."""
    total = sum(regular, Decimal(0)) + 2 * midterm + 3 * final
    count = len(regular) + 5
    exact = total / count
    value = round1(exact)
    parts = " + ".join(vn(r) for r in regular)
    label = f"ĐTBmhk {TERM_ROMAN[term]}" if term in TERM_ROMAN else "ĐTBmhk"
    why = (
        f"{label} = ({parts} + 2·{vn(midterm)} + 3·{vn(final)}) / {count} = {vn_plain(total)} / {count} "
        f"= {vn_quotient(exact)} → {vn(value)} (Điều 9 khoản 1)"
    )
    return Explained(value, why)


def year_average(hk1: Decimal, hk2: Decimal) -> Explained:
    """Art. 9 §1: ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3, from the rounded term averages."""
    exact = (hk1 + 2 * hk2) / 3
    value = round1(exact)
    return Explained(
        value,
        f"ĐTBmcn = ({vn(hk1)} + 2·{vn(hk2)}) / 3 = {vn_plain(hk1 + 2 * hk2)} / 3 "
        f"= {vn_quotient(exact)} → {vn(value)} (Điều 9 khoản 1)",
    )


def comment_term_result(
    regular: Sequence[str], midterm: str | None, final: str | None, *, required_regular: int
) -> Explained:
    """Art. 9 §1a: a comment-only subject's term is Đạt when the term has every required assessment (the regular
    ones its periods call for, art. 6, the mid-term and the end-of-term one) and every one of them is Đạt ("có đủ số
    lần kiểm tra, đánh giá … và tất cả các lần được đánh giá mức Đạt"); otherwise Chưa đạt. The reason names each
    assessment that is missing or Chưa đạt.

    The "end-of-term Đạt and 2/3 of all assessments Đạt" rule an earlier version applied is Circular 58/2011 as
    amended by 26/2020, not TT22 (docs and rules.md were corrected; the circular wins)."""
    problems = [f"ĐGtx lần {i} Chưa đạt" for i, mark in enumerate(regular, 1) if mark != PASS]
    if len(regular) < required_regular:
        problems.append(f"thiếu {required_regular - len(regular)} lần ĐGtx (cần {required_regular})")
    for label, mark in (("giữa kỳ", midterm), ("cuối kỳ", final)):
        if mark is None:
            problems.append(f"thiếu đánh giá {label}")
        elif mark != PASS:
            problems.append(f"đánh giá {label} Chưa đạt")
    counted = len(regular) + 2
    if problems:
        return Explained(
            FAIL, f"Chưa đạt: {'; '.join(problems)} (cần đủ và tất cả Đạt, Điều 9 khoản 1 điểm a)"
        )
    return Explained(PASS, f"Đạt: đủ {counted} lần đánh giá, tất cả Đạt (Điều 9 khoản 1 điểm a)")


# -- learning result (kết quả học tập) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Results of every subject for one period (a term or the year): averages and comment results."""

    scored: Mapping[str, Decimal]  # subject code → average
    commented: Mapping[str, str]  # subject code → Đ / CĐ
    names: Mapping[str, str]
    # "At least 6 scored subjects": 6, or every one the student studies when exemptions leave fewer (rules.md,
    # "Cases every school has"); see ``subjects_required``.
    min_subjects: int = MIN_SUBJECTS

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def shown(self, code: str) -> str:
        """The subject's result as the explanation quotes it: "Toán 4,2", "Giáo dục thể chất Chưa đạt"."""
        if code in self.scored:
            return f"{self.name(code)} {vn(self.scored[code])}"
        return f"{self.name(code)} {'Đạt' if self.commented[code] == PASS else 'Chưa đạt'}"


# The thresholds of each row of the art. 9 §2 table: (every scored subject ≥ floor, ≥ 6 subjects at ≥ high).
_SCORED_ROWS = {"Tốt": (Decimal("6.5"), Decimal("8.0")), "Khá": (Decimal("5.0"), Decimal("6.5"))}
_DAT_FLOOR, _DAT_HIGH = Decimal("3.5"), Decimal("5.0")


def _unmet(level: str, p: Period) -> list[str]:
    """The conditions of ``level`` (art. 9 §2) that ``p`` misses, in Vietnamese; empty when it qualifies.

    The table and its explanation come from this one function so that they cannot disagree."""
    failed = [c for c, r in p.commented.items() if r == FAIL]
    missing: list[str] = []
    if level in _SCORED_ROWS:
        floor, high = _SCORED_ROWS[level]
        if failed:
            missing.append("có môn đánh giá bằng nhận xét Chưa đạt (" + ", ".join(map(p.name, failed)) + ")")
        low = [c for c, v in p.scored.items() if v < floor]
        if low:
            missing.append(f"có môn dưới {vn(floor)} (" + ", ".join(map(p.shown, low)) + ")")
        high_count = sum(v >= high for v in p.scored.values())
        if high_count < p.min_subjects:
            missing.append(f"chỉ {high_count} môn từ {vn(high)} trở lên (cần ít nhất {p.min_subjects})")
    elif level == "Đạt":
        if len(failed) > 1:
            missing.append(
                f"{len(failed)} môn đánh giá bằng nhận xét Chưa đạt (tối đa 1: "
                + ", ".join(map(p.name, failed))
                + ")"
            )
        pass_count = sum(v >= _DAT_HIGH for v in p.scored.values())
        if pass_count < p.min_subjects:
            missing.append(f"chỉ {pass_count} môn từ {vn(_DAT_HIGH)} trở lên (cần ít nhất {p.min_subjects})")
        low = [c for c, v in p.scored.items() if v < _DAT_FLOOR]
        if low:
            missing.append(f"có môn dưới {vn(_DAT_FLOOR)} (" + ", ".join(map(p.shown, low)) + ")")
    return missing


def table_level(p: Period) -> str:
    """Art. 9 §2: the highest level of the table whose every condition holds (before the §3 adjustment)."""
    return next((level for level in ("Tốt", "Khá", "Đạt") if not _unmet(level, p)), "Chưa đạt")


def _facts(p: Period) -> str:
    values = list(p.scored.values())
    parts = []
    if values:
        lowest = min(p.scored, key=lambda c: p.scored[c])
        counts = ", ".join(
            f"{sum(v >= t for v in values)} môn ≥ {vn(t)}"
            for t in (Decimal("8.0"), Decimal("6.5"), Decimal("5.0"))
        )
        parts.append(f"{len(values)} môn tính điểm: {counts}, thấp nhất {p.shown(lowest)}")
    else:
        parts.append("không có môn tính điểm")
    if p.commented:
        failed = sum(r == FAIL for r in p.commented.values())
        parts.append(f"{len(p.commented)} môn đánh giá bằng nhận xét, {failed} môn Chưa đạt")
    return "; ".join(parts)


def _why_not_higher(level: str, p: Period) -> str:
    if level == "Tốt":
        return ""
    higher = LEVELS[rank(level) + 1]
    return f"; chưa đạt mức {higher} vì " + "; ".join(_unmet(higher, p))


@dataclass(frozen=True)
class Adjustment:
    """Art. 9 §3 applied: ``subject`` alone pulled the result from ``would_be`` down to ``computed``."""

    subject: str
    would_be: str
    computed: str
    adjusted: str


def _as_if_met(p: Period, code: str) -> Period:
    """``p`` with ``code`` meeting every threshold (10 for a scored subject, Đạt for a comment one)."""
    if code in p.scored:
        return Period({**p.scored, code: Decimal(10)}, p.commented, p.names, p.min_subjects)
    return Period(p.scored, {**p.commented, code: PASS}, p.names, p.min_subjects)


def subjects_required(studied: int, exempted: int) -> int:
    """How many scored subjects the "at least 6" rows of the art. 9 §2 table ask for. A student exempted from a
    scored subject (miễn học, by the principal's decision) is counted on what they study: 6, or all of them when
    fewer (project decision, rules.md "Cases every school has"; TT22 is silent). Without an exemption the table's 6
    stands, however few subjects were given."""
    return min(MIN_SUBJECTS, studied) if exempted else MIN_SUBJECTS


def adjustment(p: Period) -> Adjustment | None:
    """Art. 9 §3 as rules.md decides it: the level "it would otherwise reach" is the one computed as if the subject
    met every threshold; it applies when exactly one subject (of either kind) accounts for a fall of two or more
    levels from a would-be Tốt or Khá, and raises the result one level above the computed one."""
    computed = table_level(p)
    found = []
    for code in [*p.scored, *p.commented]:
        would = table_level(_as_if_met(p, code))
        if would in ("Tốt", "Khá") and rank(would) - rank(computed) >= 2:
            found.append((code, would))
    # Two subjects each able to explain the fall alone cannot happen with this table, but "one single subject"
    # is the rule, so anything other than exactly one culprit leaves the table's level as it is.
    if len(found) != 1:
        return None
    code, would = found[0]
    return Adjustment(code, would, computed, LEVELS[rank(computed) + 1])


def adjustment_subject(p: Period) -> str | None:
    """The subject that triggered the §3 adjustment, if there was one (recorded beside the result)."""
    found = adjustment(p)
    return found.subject if found else None


def learning_result(p: Period) -> Explained:
    """Art. 9 §2 with the §3 adjustment, as the project decided it (rules.md)."""
    computed = table_level(p)
    facts = _facts(p) + _why_not_higher(computed, p)
    found = adjustment(p)
    if found is None:
        return Explained(computed, f"{computed} vì {facts} (khoản 2 Điều 9)")
    steps = LEVEL_STEPS.get(rank(found.would_be) - rank(computed), "nhiều mức")
    return Explained(
        found.adjusted,
        f"{found.adjusted} vì theo bảng chỉ {computed} ({facts}); được nâng từ {computed} lên {found.adjusted} "
        f"theo khoản 3 Điều 9 (chỉ riêng môn {p.shown(found.subject)} làm tụt {steps}, "
        f"từ {found.would_be} xuống {computed})",
    )


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


def promotion(
    grade: int,
    conduct: str,
    learning: str,
    absences: int,
    retest_subjects: Sequence[str],
    names: Mapping[str, str] | None = None,
) -> Explained:
    """Art. 12–14: ``{"outcome": …, "retest_subjects": [codes]}``.

    More than 45 sessions absent → ở lại lớp, whatever else (art. 12 §2). Otherwise learning Chưa đạt → kiểm tra
    lại of ``retest_subjects``; conduct Chưa đạt → rèn luyện trong kì nghỉ hè. When both are Chưa đạt the student
    does both over the summer (project decision: rules.md gives the re-test to conduct Đạt or better, and conduct is
    re-assessed after the summer training, so neither path alone can promote the student)."""
    names = names or {}
    if absences > MAX_ABSENCES:
        return Explained(
            {"outcome": "ở lại lớp", "retest_subjects": []},
            f"Nghỉ {absences} buổi, quá {MAX_ABSENCES} buổi → ở lại lớp (Điều 12)",
        )
    if rank(conduct) >= 1 and rank(learning) >= 1:
        done = "hoàn thành chương trình" if grade in (9, 12) else "lên lớp"
        return Explained(
            {"outcome": done, "retest_subjects": []},
            f"Rèn luyện {conduct}, học tập {learning}, nghỉ {absences} buổi (tối đa {MAX_ABSENCES}) → {done} "
            "(Điều 12)",
        )
    outcomes = []
    if rank(learning) == 0:
        outcomes.append("kiểm tra lại")
    if rank(conduct) == 0:
        outcomes.append("rèn luyện trong kì nghỉ hè")
    outcome = " và ".join(outcomes)
    retest = list(retest_subjects) if rank(learning) == 0 else []
    shown = ", ".join(names.get(c, c) for c in retest)
    return Explained(
        {"outcome": outcome, "retest_subjects": retest},
        f"Rèn luyện {conduct}, học tập {learning} → {outcome}"
        + (f" các môn: {shown}" if retest else "")
        + " (Điều 13, 14)",
    )


def award(conduct: str, learning: str, year_averages: Sequence[Decimal]) -> Explained:
    """Art. 15: Xuất sắc — conduct and learning Tốt with at least 6 scored subjects at 9.0 or more; Giỏi — both Tốt."""
    n9 = sum(v >= 9 for v in year_averages)
    if conduct == "Tốt" and learning == "Tốt":
        if n9 >= MIN_SUBJECTS:
            return Explained(
                "Học sinh Xuất sắc", f"Rèn luyện Tốt, học tập Tốt, {n9} môn ĐTBmcn ≥ 9,0 (Điều 15)"
            )
        return Explained(
            "Học sinh Giỏi",
            f"Rèn luyện Tốt, học tập Tốt, {n9} môn ĐTBmcn ≥ 9,0 (cần {MIN_SUBJECTS} cho Xuất sắc) (Điều 15)",
        )
    return Explained(
        None, f"Rèn luyện {conduct}, học tập {learning}: chưa đủ điều kiện khen thưởng (Điều 15)"
    )


# -- after the year (art. 12–14) ---------------------------------------------------------------------------------

SUMMER_OUTCOMES = ("kiểm tra lại", "rèn luyện trong kì nghỉ hè", "kiểm tra lại và rèn luyện trong kì nghỉ hè")
REGULAR_CUTOFF, SUPPLEMENTARY_CUTOFF = "06-30", "08-15"


def promotion_after_summer(grade: int, conduct: str, learning: str, absences: int) -> Explained:
    """Art. 13–14: after the re-test (learning re-evaluated with the re-test results) and the summer training
    (conduct re-assessed), the student moves up — or completes the programme in grade 9 or 12 — when both are Đạt or
    better; otherwise repeats the grade (ở lại lớp). Absences beyond 45 sessions already decided the year."""
    if absences > MAX_ABSENCES:
        return Explained(
            {"outcome": "ở lại lớp"}, f"Nghỉ {absences} buổi, quá {MAX_ABSENCES} buổi → ở lại lớp (Điều 12)"
        )
    if rank(conduct) >= 1 and rank(learning) >= 1:
        done = "hoàn thành chương trình" if grade in (9, 12) else "lên lớp"
        return Explained(
            {"outcome": done},
            f"Sau kiểm tra lại / rèn luyện hè: rèn luyện {conduct}, học tập {learning} → {done}"
            " (Điều 13, 14)",
        )
    return Explained(
        {"outcome": "ở lại lớp"},
        f"Sau kiểm tra lại / rèn luyện hè: rèn luyện {conduct}, học tập {learning} → ở lại lớp (Điều 13, 14)",
    )


def reporting_cutoff(outcome: str) -> Explained:
    """The reporting path (rules.md "After the year", project decision after seed 003): a student with a re-test or
    summer training is reported after the re-evaluation, before 15 August (supplementary path); everyone else before
    30 June."""
    if outcome in SUMMER_OUTCOMES:
        return Explained(SUPPLEMENTARY_CUTOFF, f"{outcome} → báo cáo sau đánh giá lại, trước 15/8")
    return Explained(REGULAR_CUTOFF, f"{outcome} → báo cáo trước 30/6")
