"""One student's school year as the rules see it: typed inputs in, every result the data allows out (TT22, TT27).

The year is assembled here once. `hocba rules evaluate` (evaluate.py) validates a complete year and calls these
functions; the API (results.py) maps the stored entries, partial during the year, to the same inputs and calls the
same functions. A term, a subject's year or a period that is not complete computes nothing; whatever is complete is
computed, and explained, the same way for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from services.gradebook.domain import supplementary, tt22, tt27
from services.gradebook.domain.carried import carried_why
from services.gradebook.domain.curriculum import Assessment, regular_assessments
from services.gradebook.domain.explain import TERM_LABEL, Explained, vn
from services.gradebook.domain.individual_plan import plan_note, subject_note

TERMS = ("hk1", "hk2")
PERIODS = ("hk1", "hk2", "year")
EXEMPT = "Miễn"


# -- inputs --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreTerm:
    """A scored subject's term (TT22): the regular, mid-term and end-of-term scores entered so far."""

    regular: tuple[Decimal, ...] = ()
    midterm: Decimal | None = None
    final: Decimal | None = None


@dataclass(frozen=True)
class CommentTerm:
    """A comment-only subject's term (TT22): its assessments (Đ/CĐ) entered so far, or a term result typed as it is
    (the CLI's ``{"result": "Đ"}``; the API computes the term from the assessments only)."""

    regular: tuple[str, ...] = ()
    midterm: str | None = None
    final: str | None = None
    result: str | None = None

    @property
    def assessed(self) -> bool:
        return bool(self.regular) or self.midterm is not None or self.final is not None


@dataclass(frozen=True)
class LevelTerm:
    """A primary subject's term (TT27): its level (T/H/C) and periodic test (1–10) where it has one."""

    level: str | None = None
    test: int | None = None


@dataclass(frozen=True)
class CarriedResult:
    """A term another school assessed, for a student who arrived during the year (domain/carried.py): the subject's
    term result as that school's locked term gave it (ĐTBmhk, or Đ/CĐ), and that school's printed name."""

    value: Decimal | str
    school: str


Term = ScoreTerm | CommentTerm | LevelTerm | CarriedResult


@dataclass(frozen=True)
class SubjectYear:
    """One subject of the student's year: what it is and what was entered for it.

    ``hk1``/``hk2`` None: nothing entered; ``exempt``: the terms a principal's decision exempted (miễn học);
    ``retest``: the summer re-test result (a score, or Đ/CĐ for a comment subject); ``reassessed``: a primary
    subject's supplementary assessment (TT27 art. 11, its new level and test); ``individual_plan``: assessed
    against the student's individual education plan (individual_plan.py): same form, the plan's requirements."""

    code: str
    name: str
    kind: Assessment
    periods_per_year: int | None = None
    hk1: Term | None = None
    hk2: Term | None = None
    exempt: frozenset[str] = frozenset()
    retest: Decimal | str | None = None
    reassessed: LevelTerm | None = None
    individual_plan: bool = False

    def term(self, term: str) -> Term | None:
        return self.hk1 if term == "hk1" else self.hk2

    @property
    def required_regular(self) -> int:
        """TT22 art. 6: the regular assessments a term needs for the subject's periods per year."""
        return regular_assessments(self.periods_per_year or 0)


# -- outputs -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectResult:
    """A subject's computed results: ``results`` maps hk1/hk2/year to an average (Decimal), Đ/CĐ, a TT27 level or
    "Miễn" — only the periods the data allows."""

    code: str
    kind: Assessment
    results: Mapping[str, Decimal | str]
    after_retest: Decimal | str | None = None


@dataclass(frozen=True)
class YearDecision:
    """TT22 art. 12–15, decided once the year's conduct and learning result are known."""

    outcome: str
    retest_subjects: tuple[str, ...]
    reporting_cutoff: str
    award: str | None


@dataclass(frozen=True)
class SecondaryYear:
    subjects: tuple[SubjectResult, ...]
    learning: Mapping[
        str, str
    ]  # hk1/hk2/year → Tốt/Khá/Đạt/Chưa đạt, the periods every subject has a result for
    adjustments: Mapping[str, tt22.Adjustment]  # art. 9 §3, where applied
    learning_after_retest: str | None
    conduct: Mapping[str, str]  # hk1/hk2 as recorded, year when both are
    decision: YearDecision | None
    promotion_after_retest: str | None
    explanations: Mapping[str, str] = field(default_factory=dict)  # every computed value → why, in Vietnamese


@dataclass(frozen=True)
class PrimaryDecision:
    """TT27 art. 9, 13 and the completion decision, once every subject, test, quality and competency is known."""

    year_result: str
    award: str | None
    completion: str
    reporting_cutoff: str


@dataclass(frozen=True)
class PrimaryYear:
    subjects: tuple[SubjectResult, ...]
    year_tests: Mapping[str, int]  # subject → end-of-year periodic test
    decision: PrimaryDecision | None
    explanations: Mapping[str, str] = field(default_factory=dict)
    # TT27 art. 11: what a pupil not complete is re-assessed on, and completion decided again once re-assessed
    due: supplementary.Due = supplementary.Due()
    after_supplementary: supplementary.AfterSupplementary | None = None


# -- TT22 ----------------------------------------------------------------------------------------------------------


def pass_word(result: str) -> str:
    return "Đạt" if result == tt22.PASS else "Chưa đạt"


def _term_result(s: SubjectYear, term: str) -> Explained | None:
    """A term's result once it has every assessment the subject's periods call for (art. 6–7, 9)."""
    entered = s.term(term)
    if isinstance(entered, CarriedResult):
        value = entered.value
        shown = vn(value) if isinstance(value, Decimal) else pass_word(value)
        return Explained(
            value,
            f"{s.name}, {TERM_LABEL[term]}: {shown} do {entered.school} đánh giá (kết quả mang sang khi chuyển "
            "trường, không tính lại)",
        )
    if isinstance(entered, ScoreTerm):
        if len(entered.regular) != s.required_regular or entered.midterm is None or entered.final is None:
            return None
        average = tt22.term_average(list(entered.regular), entered.midterm, entered.final, term=term)
        return Explained(average.value, f"{s.name}: {average.why}")
    if isinstance(entered, CommentTerm):
        if entered.assessed:
            if len(entered.regular) != s.required_regular or entered.midterm is None or entered.final is None:
                return None
            # TT22 art. 9 §1a, from the assessments once the term has every one of them.
            result = tt22.comment_term_result(
                list(entered.regular), entered.midterm, entered.final, required_regular=s.required_regular
            )
        elif entered.result is not None:
            result = Explained(
                entered.result, f"{pass_word(entered.result)} (kết quả học kỳ do giáo viên ghi)"
            )
        else:
            return None
        return Explained(result.value, f"{s.name}, {TERM_LABEL[term]}: {result.why}")
    return None


def _year_result(s: SubjectYear, terms: Mapping[str, Decimal | str]) -> Explained | None:
    """The subject's year: ĐTBmcn, or term II's Đ/CĐ (art. 9); "Miễn" when exempt all year; a subject studied one
    term takes that term (project decision; TT22 is silent)."""
    studied = [t for t in TERMS if t not in s.exempt]
    if not studied:
        return Explained(EXEMPT, f"{s.name}, cả năm: miễn học cả năm (Miễn)")
    if s.kind is Assessment.COMMENT and "hk2" in studied:
        if "hk2" not in terms:
            return None
        hk2 = str(terms["hk2"])
        return Explained(hk2, f"{s.name}, cả năm: {pass_word(hk2)} theo kết quả học kỳ II (Điều 9)")
    if any(t not in terms for t in studied):
        return None
    if len(studied) == 1:
        (term,) = studied
        value = terms[term]
        shown = vn(value) if isinstance(value, Decimal) else pass_word(value)
        return Explained(
            value, f"{s.name}, cả năm: {shown} theo {TERM_LABEL[term]}, học kỳ còn lại được miễn"
        )
    first, second = terms["hk1"], terms["hk2"]
    assert isinstance(first, Decimal) and isinstance(second, Decimal)
    year = tt22.year_average(first, second)
    if isinstance(s.hk1, CarriedResult):  # the year from both schools' terms: say whose each is
        return Explained(year.value, f"{s.name}: {year.why}; {carried_why(s.hk1.school)}")
    return Explained(year.value, f"{s.name}: {year.why}")


def secondary_year(
    grade: int,
    subjects: Sequence[SubjectYear],
    *,
    conduct: Mapping[str, str] | None = None,
    absences: int = 0,
    conduct_after_summer: str | None = None,
    carried_from: Mapping[str, str] | None = None,
) -> SecondaryYear:
    """TT22, every result the data allows: term and year results per subject (art. 9 §1), the learning result per
    period with its adjustment (§2–3), the year's conduct (art. 8), promotion, reporting path and award (art. 12–15),
    and after the summer the re-test results and the promotion decided again (art. 13–14).

    ``conduct``: hk1/hk2 → level, the terms recorded so far; ``absences``: sessions missed in the year;
    ``carried_from``: term → the name of the school that assessed it, for a term a student who arrived during the
    year brings (its subjects' results are ``CarriedResult``; its conduct is in ``conduct``): the reasons say so."""
    carried_from = carried_from or {}
    names = {s.code: s.name for s in subjects}
    why: dict[str, str] = {}
    scored: dict[str, dict[str, Decimal]] = {p: {} for p in PERIODS}
    commented: dict[str, dict[str, str]] = {p: {} for p in PERIODS}
    # scored subjects exempted per period: the "at least 6" rows then count what the student studies
    exempted_scored = dict.fromkeys(PERIODS, 0)
    retest_scored: dict[str, Decimal] = {}
    retest_commented: dict[str, str] = {}
    out: list[SubjectResult] = []
    for s in subjects:
        results: dict[str, Decimal | str] = {}
        for term in TERMS:
            if term in s.exempt:
                exempted_scored[term] += s.kind is Assessment.SCORE
                results[term] = EXEMPT
                why[f"{s.code}.{term}"] = (
                    f"{s.name}, {TERM_LABEL[term]}: miễn học theo quyết định của hiệu trưởng, không tính vào kết "
                    "quả học tập (Miễn)"
                )
                continue
            computed = _term_result(s, term)
            if computed is not None:
                results[term] = computed.value
                why[f"{s.code}.{term}"] = computed.why + _on_plan(s, "tt22")
        own = {t: v for t, v in results.items() if v != EXEMPT}
        year = _year_result(s, own)
        after: Decimal | str | None = None
        if year is not None:
            results["year"] = year.value
            why[f"{s.code}.year"] = year.why + _on_plan(s, "tt22")
            if year.value == EXEMPT:
                exempted_scored["year"] += s.kind is Assessment.SCORE
            elif s.retest is not None:
                after = s.retest
                if isinstance(after, Decimal):
                    retest_scored[s.code] = after
                    why[f"{s.code}.year_after_retest"] = (
                        f"{s.name}: điểm kiểm tra lại {vn(after)} thay cho ĐTBmcn (Điều 14)"
                    )
                else:
                    retest_commented[s.code] = after
                    why[f"{s.code}.year_after_retest"] = (
                        f"{s.name}: kiểm tra lại {pass_word(after)}, thay cho kết quả cả năm (Điều 14)"
                    )
        for period, value in results.items():
            if value == EXEMPT:
                continue
            if isinstance(value, Decimal):
                scored[period][s.code] = value
            else:
                commented[period][s.code] = value
        out.append(SubjectResult(s.code, s.kind, results, after))

    def period_of(period: str, *, after_retest: bool = False) -> tt22.Period:
        marks, comments = scored[period], commented[period]
        if after_retest:  # art. 14: the re-test result replaces the subject's year result
            marks, comments = {**marks, **retest_scored}, {**comments, **retest_commented}
        required = tt22.subjects_required(len(marks), exempted_scored[period])
        return tt22.Period(marks, comments, names, required)

    # TT22 art. 10: the same rules read the plan subjects' results, which measure the plan's requirements.
    planned = [s.name for s in subjects if s.individual_plan]
    plan = f"; {plan_note(planned, 'tt22')}" if planned else ""
    learning: dict[str, str] = {}
    adjustments: dict[str, tt22.Adjustment] = {}
    for period in PERIODS:
        # A period's learning result reads every subject: it waits until each has its result (or is exempt).
        if not out or any(period not in r.results for r in out):
            continue
        p = period_of(period)
        result = tt22.learning_result(p)
        learning[period] = str(result.value)
        why[f"learning_result.{period}"] = (
            result.why
            + (
                f" (kết quả các môn {TERM_LABEL[period]} do {carried_from[period]} đánh giá)"
                if period in carried_from
                else ""
            )
            + plan
        )
        found = tt22.adjustment(p)
        if found is not None:
            adjustments[period] = found
    learning_after: str | None = None
    if (retest_scored or retest_commented) and "year" in learning:
        after_result = tt22.learning_result(period_of("year", after_retest=True))
        learning_after = str(after_result.value)
        why["learning_result_after_retest"] = after_result.why + plan

    recorded = {t: conduct[t] for t in TERMS if conduct and conduct.get(t)}
    conduct_out = dict(recorded)
    decision: YearDecision | None = None
    promotion_after: str | None = None
    if len(recorded) == 2:
        # The year's conduct needs only the two terms' (art. 8); promotion and awards need the learning result too.
        conduct_year = tt22.conduct_year(recorded["hk1"], recorded["hk2"])
        conduct_out["year"] = year_conduct = str(conduct_year.value)
        why["conduct.year"] = (
            conduct_year.why
            + (
                f"; rèn luyện {'; '.join(f'{TERM_LABEL[t]} do {carried_from[t]} đánh giá' for t in sorted(carried_from))}"
                if carried_from
                else ""
            )
            + plan
        )
        if "year" in learning:
            retest = [c for c, v in scored["year"].items() if v < 5] + [
                c for c, r in commented["year"].items() if r == tt22.FAIL
            ]
            promoted = tt22.promotion(grade, year_conduct, learning["year"], absences, retest, names)
            why["promotion"] = promoted.why
            cutoff = tt22.reporting_cutoff(promoted.value["outcome"])
            why["reporting_cutoff"] = cutoff.why
            prize = tt22.award(year_conduct, learning["year"], list(scored["year"].values()))
            why["award"] = prize.why
            decision = YearDecision(
                promoted.value["outcome"], tuple(promoted.value["retest_subjects"]), cutoff.value, prize.value
            )
            # Art. 13–14: with re-test results, or the conduct re-assessed after the summer training, the promotion
            # is decided again from the re-evaluated results.
            if learning_after is not None or conduct_after_summer is not None:
                decided = tt22.promotion_after_summer(
                    grade, conduct_after_summer or year_conduct, learning_after or learning["year"], absences
                )
                promotion_after = decided.value["outcome"]
                why["promotion_after_retest"] = decided.why
    return SecondaryYear(
        tuple(out), learning, adjustments, learning_after, conduct_out, decision, promotion_after, why
    )


# -- TT27 ----------------------------------------------------------------------------------------------------------


def primary_year(
    grade: int,
    subjects: Sequence[SubjectYear],
    *,
    qualities: Mapping[str, str] | None = None,
    competencies: Mapping[str, str] | None = None,
    traits_after: Mapping[str, str] | None = None,
    principal_promotes: bool | None = None,
) -> PrimaryYear:
    """TT27, every result the data allows: each subject's year level (its end-of-year assessment), and once every
    subject, required end-of-year test, quality and competency is known, the year result (art. 9 §2), the award
    (art. 13), completion and the reporting path (rules.md "Completion"); for a pupil not complete, what the
    supplementary assessment covers and, once something is re-assessed (a subject's ``reassessed``,
    ``traits_after``) or the principal's summer lock decided (``principal_promotes``: lên lớp for a pupil still not
    complete, or not), completion decided again (art. 11, supplementary.py)."""
    why: dict[str, str] = {}
    names = {s.code: s.name for s in subjects}
    out: list[SubjectResult] = []
    year_levels: dict[str, str] = {}
    year_tests: dict[str, int] = {}
    for s in subjects:
        results: dict[str, Decimal | str] = {}
        for term in TERMS:
            entered = s.term(term)
            if isinstance(entered, LevelTerm) and entered.level:
                results[term] = entered.level
        end = s.hk2
        if "hk2" in results:
            year = tt27.year_level(_level(s.hk1), str(results["hk2"]), s.name)
            results["year"] = year_levels[s.code] = str(year.value)
            why[f"{s.code}.year"] = year.why + _on_plan(s, "tt27")
        if isinstance(end, LevelTerm) and end.test is not None:
            year_tests[s.code] = end.test
        again = s.reassessed.level if s.reassessed is not None else None
        out.append(SubjectResult(s.code, s.kind, results, again))
    qualities, competencies = qualities or {}, competencies or {}
    complete = (
        bool(subjects)
        and len(year_levels) == len(subjects)
        and all(s.code in year_tests for s in subjects if tt27.needs_test(s.code, grade))
        and set(qualities) >= set(tt27.QUALITIES)
        and set(competencies) >= set(tt27.competencies(grade))
    )
    if not complete:
        return PrimaryYear(tuple(out), year_tests, None, why)
    # In the circular's order, whatever order they were stored or typed in: the reason lists them so. Only the
    # grade's competencies (tt27.COMPETENCIES_BY_GRADE): one stored before the table was per grade is not read.
    qualities = {k: qualities[k] for k in tt27.QUALITIES}
    competencies = {k: competencies[k] for k in tt27.competencies(grade)}
    result = tt27.year_result(year_levels, qualities, competencies, year_tests, names)
    planned = [s.name for s in subjects if s.individual_plan]
    why["year_result"] = result.why + (f"; {plan_note(planned, 'tt27')}" if planned else "")
    prize = tt27.award(str(result.value))
    why["award"] = prize.why
    done = tt27.completion(grade, str(result.value))
    why["completion"] = done.why
    is_complete = result.value in tt27.COMPLETE_LEVELS
    cutoff = tt27.reporting_cutoff(grade, is_complete)
    why["reporting_cutoff"] = cutoff.why
    decision = PrimaryDecision(str(result.value), prize.value, str(done.value), str(cutoff.value))
    owed = supplementary.due(year_levels, year_tests, {**qualities, **competencies}, is_complete)
    after: supplementary.AfterSupplementary | None = None
    reassessed = {
        s.code: s.reassessed for s in subjects if s.reassessed is not None and s.code in owed.subjects
    }
    changed_traits = {k: v for k, v in (traits_after or {}).items() if k in owed.traits}
    if owed and (reassessed or changed_traits or principal_promotes is not None):
        # Art. 11 §2: the re-assessed items in place of the year's, the others as the year decided them.
        levels_after = {**year_levels, **{c: str(r.level) for c, r in reassessed.items() if r.level}}
        tests_after = {**year_tests, **{c: r.test for c, r in reassessed.items() if r.test is not None}}
        after = supplementary.decide_again(
            grade,
            levels_after,
            tests_after,
            {k: changed_traits.get(k, v) for k, v in qualities.items()},
            {k: changed_traits.get(k, v) for k, v in competencies.items()},
            names,
            promoted_by_principal=bool(principal_promotes),
        )
        why.update(after.explanations)
    return PrimaryYear(tuple(out), year_tests, decision, why, owed, after)


def _on_plan(s: SubjectYear, circular: str) -> str:
    """A plan subject's reason says what its values measure (individual_plan.py)."""
    return f" — {subject_note(circular)}" if s.individual_plan else ""


def _level(entered: Term | None) -> str | None:
    return entered.level if isinstance(entered, LevelTerm) else None
