"""The API's computed results for one student's sheet: the stored entries mapped to the year's inputs (year.py),
the one rules pipeline run on them, and its results in the shape the API and the class snapshot show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from services.gradebook.domain.carried import CarriedTerm
from services.gradebook.domain.curriculum import Assessment, circular_of_grade, subject
from services.gradebook.domain.rounding import dec
from services.gradebook.domain.summer import SUMMER, TRAINING
from services.gradebook.domain.supplementary import PROMOTED_BY_PRINCIPAL
from services.gradebook.domain.year import (
    TERMS,
    CarriedResult,
    CommentTerm,
    LevelTerm,
    ScoreTerm,
    SubjectYear,
    Term,
    primary_year,
    secondary_year,
)


@dataclass
class StudentResults:
    averages: dict[tuple[str, str], str] = field(
        default_factory=dict
    )  # (subject, hk1|hk2|year) → "7.8"/"Đ"/"T"
    learning: dict[str, str] = field(default_factory=dict)  # hk1|hk2|year → Tốt/Khá/… (TT22)
    # (subject, hk1|hk2) → Đ/CĐ: a comment-only subject's term result, computed from its assessments (TT22)
    term_results: dict[tuple[str, str], str] = field(default_factory=dict)
    year: dict[str, str | None] = field(default_factory=dict)  # conduct, learning_result, promotion, award…
    explanations: dict[str, str] = field(default_factory=dict)
    # What the year's decision sends to the summer (TT22 art. 12–14): the subjects to re-test, summer training;
    # for a primary pupil not complete (TT27 art. 11), the subjects and the qualities/competencies re-assessed.
    retest_subjects: tuple[str, ...] = ()
    summer_training: bool = False
    reassess_traits: tuple[str, ...] = ()

    def average(self, subject_code: str, period: str) -> str | None:
        return self.averages.get((subject_code, period))

    def term_result(self, subject_code: str, term: str) -> str | None:
        return self.term_results.get((subject_code, term))

    def learning_result(self, period: str) -> str | None:
        return self.learning.get(period)


def compute_results(
    grade: int,
    periods: dict[str, int | None],
    marks: dict[str, dict[str, dict[str, Any]]],
    terms: dict[str, dict[str, Any]],
    exempt: Mapping[str, frozenset[str]] | None = None,
    carried: Mapping[str, CarriedTerm] | None = None,
    plan: frozenset[str] = frozenset(),
) -> StudentResults:
    """``marks``: subject → term → entry; ``terms``: term → homeroom record; ``exempt``: subject → the terms the
    principal exempted (the CLI's ``exempt``). The summer stage (summer.py) is the term ``summer``: a subject's
    ``{"retest": …}`` and the homeroom's ``{"conduct": …}`` after summer training, the CLI's ``retest`` and
    ``conduct_after_summer``. ``carried``: term → the term another school assessed, for a student who arrived
    during the year (carried.py): it stands for that term instead of anything the class holds. ``plan``: the
    subjects the student's individual education plan assesses against its requirements (individual_plan.py). What
    is incomplete computes nothing."""
    exempt, carried = exempt or {}, carried or {}
    subjects = [
        replace(
            _subject_year(
                grade, code, periods_per_year, marks.get(code, {}), exempt.get(code, frozenset()), carried
            ),
            individual_plan=code in plan,
        )
        for code, periods_per_year in periods.items()
    ]
    if circular_of_grade(grade) == "tt27":
        return _primary(grade, subjects, terms)
    return _secondary(grade, subjects, terms, carried)


def _subject_year(
    grade: int,
    code: str,
    periods_per_year: int | None,
    entries: dict[str, dict[str, Any]],
    exempt: frozenset[str],
    carried: Mapping[str, CarriedTerm],
) -> SubjectYear:
    """The subject as the rules read it; an exempt term's marks (entered before the decision) are not given, as the
    CLI refuses them: the term is "Miễn" whatever was entered. A carried term is the other school's result, or
    nothing when it brought none for the subject."""
    known = subject(code, grade)

    def term_of(term: str) -> Term | None:
        if term in exempt:
            return None
        if term in carried:
            value = carried[term].subjects.get(code)
            if value is None:
                return None
            number = known.assessment is Assessment.SCORE
            return CarriedResult(dec(value) if number else value, carried[term].from_school_name)
        return _term(known.assessment, entries.get(term))

    hk1, hk2 = (term_of(term) for term in TERMS)
    summer = entries.get(SUMMER) or {}
    if known.assessment is Assessment.LEVEL:
        # TT27 art. 11: the supplementary assessment's level and test, beside the year's.
        again = _term(Assessment.LEVEL, summer) if summer else None
        reassessed = again if isinstance(again, LevelTerm) else None
        return SubjectYear(
            code, known.name, known.assessment, periods_per_year, hk1, hk2, exempt, None, reassessed
        )
    entered = summer.get("retest")
    retest: Decimal | str | None = None
    if entered is not None:
        retest = dec(entered) if known.assessment is Assessment.SCORE else str(entered)
    return SubjectYear(code, known.name, known.assessment, periods_per_year, hk1, hk2, exempt, retest)


def _term(kind: Assessment, entry: dict[str, Any] | None) -> Term | None:
    """A stored entry (validated on entry by marks.py, scores kept as decimal text) as the rules' term."""
    if not entry:
        return None
    if kind is Assessment.SCORE:
        return ScoreTerm(
            tuple(dec(r) for r in entry.get("regular") or []),
            None if entry.get("midterm") is None else dec(entry["midterm"]),
            None if entry.get("final") is None else dec(entry["final"]),
        )
    if kind is Assessment.COMMENT:
        # Only the assessments: the term result follows from them (TT22 art. 9 §1a), never from a typed one.
        return CommentTerm(tuple(entry.get("regular") or []), entry.get("midterm"), entry.get("final"))
    test = entry.get("test")
    return LevelTerm(entry.get("level") or None, None if test is None else int(test))


def _secondary(
    grade: int,
    subjects: list[SubjectYear],
    terms: dict[str, dict[str, Any]],
    carried: Mapping[str, CarriedTerm],
) -> StudentResults:
    records = {t: terms.get(t) or {} for t in TERMS}
    for term, brought in carried.items():  # the other school's conduct and sessions missed stand for the term
        records[term] = {"conduct": brought.conduct, "absences": brought.absences}
    absences = sum(int(records[t].get("absences") or 0) for t in TERMS)
    conduct = {t: str(records[t]["conduct"]) for t in TERMS if records[t].get("conduct")}
    after_summer = (terms.get(SUMMER) or {}).get("conduct")
    year = secondary_year(
        grade,
        subjects,
        conduct=conduct,
        absences=absences,
        # As the CLI: the conduct after summer training counts once the year's conduct is there.
        conduct_after_summer=str(after_summer) if after_summer and len(conduct) == 2 else None,
        carried_from={t: c.from_school_name for t, c in carried.items()},
    )
    out = StudentResults()
    for result in year.subjects:
        for period, value in result.results.items():
            out.averages[(result.code, period)] = str(value)
            if result.kind is Assessment.COMMENT and period in TERMS:
                out.term_results[(result.code, period)] = str(value)
        if result.after_retest is not None:
            # Shown as the ĐTBmcn it replaces, with its one decimal ("5.0"), as the CLI prints it.
            after = result.after_retest
            shown = after.quantize(Decimal("0.1")) if isinstance(after, Decimal) else after
            out.averages[(result.code, "year_after_retest")] = str(shown)
    out.learning = dict(year.learning)
    if "year" in year.learning:
        out.year["learning_result"] = year.learning["year"]
    if "year" in year.conduct:
        out.year["conduct"] = year.conduct["year"]
    if year.decision is not None:
        out.year.update(
            {
                "promotion": year.decision.outcome,
                "retest_subjects": ", ".join(year.decision.retest_subjects) or None,
                "award": year.decision.award,
                "absences": str(absences),
                "reporting_path": _path(year.decision.reporting_cutoff),
            }
        )
        out.retest_subjects = year.decision.retest_subjects
        out.summer_training = TRAINING in year.decision.outcome
    # After the summer, beside the year-end results (the record keeps both; rules.md "After the year").
    if year.learning_after_retest is not None:
        out.year["learning_result_after_retest"] = year.learning_after_retest
    if after_summer and year.decision is not None:
        out.year["conduct_after_summer"] = str(after_summer)
    if year.promotion_after_retest is not None:
        out.year["promotion_after_retest"] = year.promotion_after_retest
    # The reasons the API has always shown; the CLI's others (a comment subject's year, the reporting path) are
    # there in ``year.explanations`` when the API wants them.
    comment = {r.code for r in year.subjects if r.kind is Assessment.COMMENT}
    out.explanations = {
        key: why
        for key, why in year.explanations.items()
        if key != "reporting_cutoff" and not (key.endswith(".year") and key[: -len(".year")] in comment)
    }
    return out


def _primary(grade: int, subjects: list[SubjectYear], terms: dict[str, dict[str, Any]]) -> StudentResults:
    record = terms.get("hk2") or {}
    summer = terms.get(SUMMER) or {}
    year = primary_year(
        grade,
        subjects,
        qualities=record.get("qualities") or {},
        competencies=record.get("competencies") or {},
        traits_after={**(summer.get("qualities") or {}), **(summer.get("competencies") or {})},
        principal_promotes=summer.get(PROMOTED_BY_PRINCIPAL),
    )
    out = StudentResults()
    for result in year.subjects:
        for period, value in result.results.items():
            out.averages[(result.code, period)] = str(value)
        if result.after_retest is not None and "year" in result.results:
            out.averages[(result.code, "year_after_retest")] = str(result.after_retest)
    if year.decision is not None:
        out.year.update(
            {
                "year_result": year.decision.year_result,
                "award": year.decision.award,
                "completion": year.decision.completion,
                "reporting_path": _path(year.decision.reporting_cutoff),
            }
        )
        # The reasons the API has always shown for a primary pupil; the others are in ``year.explanations``.
        out.explanations = {k: year.explanations[k] for k in ("year_result", "award")}
        out.retest_subjects, out.reassess_traits = year.due.subjects, year.due.traits
    if year.after_supplementary is not None:
        # After the summer, beside the year-end results (the record keeps both; rules.md "Completion").
        after = year.after_supplementary
        out.year.update(
            {
                "year_result_after_supplementary": after.year_result,
                "completion_after_supplementary": after.completion,
                "promotion_after_supplementary": after.promotion,
            }
        )
        out.explanations.update(after.explanations)
    return out


def _path(cutoff: str) -> str:
    """The reporting path the record travels on (the contract's words): 30/6 regular, 15/8 supplementary."""
    return "supplementary" if cutoff == "08-15" else "regular"
