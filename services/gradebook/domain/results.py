"""Computed results for one student's sheet: averages and learning results wherever the data is complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.gradebook.domain import tt22, tt27
from services.gradebook.domain.curriculum import Assessment, circular_of_grade, regular_assessments, subject
from services.gradebook.domain.explain import TERM_LABEL
from services.gradebook.domain.rounding import dec

TERMS = ("hk1", "hk2")


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
) -> StudentResults:
    """``marks``: subject → term → entry; ``terms``: term → homeroom record. Incomplete data computes nothing."""
    if circular_of_grade(grade) == "tt27":
        return _primary(grade, periods, marks, terms)
    return _secondary(grade, periods, marks, terms)


def _secondary(
    grade: int,
    periods: dict[str, int | None],
    marks: dict[str, dict[str, dict[str, Any]]],
    terms: dict[str, dict[str, Any]],
) -> StudentResults:
    out = StudentResults()
    names = {code: subject(code, grade).name for code in periods}
    scored: dict[str, dict[str, Decimal]] = {"hk1": {}, "hk2": {}, "year": {}}
    commented: dict[str, dict[str, str]] = {"hk1": {}, "hk2": {}, "year": {}}
    for code, periods_per_year in periods.items():
        kind = subject(code, grade).assessment
        for term in TERMS:
            entry = marks.get(code, {}).get(term) or {}
            if kind is Assessment.SCORE:
                regular = entry.get("regular") or []
                if _complete(entry, periods_per_year):
                    average = tt22.term_average(
                        [dec(r) for r in regular], dec(entry["midterm"]), dec(entry["final"])
                    )
                    scored[term][code] = average.value
                    out.averages[(code, term)] = str(average.value)
                    out.explanations[f"{code}.{term}"] = f"{names[code]}: {average.why}"
            elif _complete(entry, periods_per_year):
                # TT22 art. 9 §1a, from the stored assessments once the term has every one of them.
                result = tt22.comment_term_result(
                    entry.get("regular") or [],
                    entry["midterm"],
                    entry["final"],
                    required_regular=regular_assessments(periods_per_year or 0),
                )
                commented[term][code] = str(result.value)
                out.averages[(code, term)] = str(result.value)
                out.term_results[(code, term)] = str(result.value)
                out.explanations[f"{code}.{term}"] = f"{names[code]}, {TERM_LABEL[term]}: {result.why}"
        if code in scored["hk1"] and code in scored["hk2"]:
            year = tt22.year_average(scored["hk1"][code], scored["hk2"][code])
            scored["year"][code] = year.value
            out.averages[(code, "year")] = str(year.value)
            out.explanations[f"{code}.year"] = f"{names[code]}: {year.why}"
        if code in commented["hk2"]:
            commented["year"][code] = commented["hk2"][code]
            out.averages[(code, "year")] = commented["hk2"][code]
    for period in ("hk1", "hk2", "year"):
        if periods and len(scored[period]) + len(commented[period]) == len(periods):
            result = tt22.learning_result(tt22.Period(scored[period], commented[period], names))
            out.learning[period] = str(result.value)
            out.explanations[f"learning_result.{period}"] = result.why
    conduct = {t: (terms.get(t) or {}).get("conduct") for t in TERMS}
    if "year" in out.learning:
        out.year["learning_result"] = out.learning["year"]
    if all(conduct.values()):
        # The year's conduct needs only the two terms' (art. 8); promotion and awards need the learning result too.
        year_conduct = tt22.conduct_year(str(conduct["hk1"]), str(conduct["hk2"]))
        out.year["conduct"] = str(year_conduct.value)
        out.explanations["conduct.year"] = year_conduct.why
    if all(conduct.values()) and "year" in out.learning:
        absences = sum(int((terms.get(t) or {}).get("absences") or 0) for t in TERMS)
        retest = [c for c, v in scored["year"].items() if v < 5] + [
            c for c, r in commented["year"].items() if r == tt22.FAIL
        ]
        promoted = tt22.promotion(grade, str(year_conduct.value), out.learning["year"], absences, retest)
        prize = tt22.award(str(year_conduct.value), out.learning["year"], list(scored["year"].values()))
        out.year.update(
            {
                "promotion": promoted.value["outcome"],
                "retest_subjects": ", ".join(promoted.value["retest_subjects"]) or None,
                "award": prize.value,
                "absences": str(absences),
            }
        )
        out.explanations.update({"promotion": promoted.why, "award": prize.why})
    return out


def _complete(entry: dict[str, Any], periods_per_year: int | None) -> bool:
    """A term's entry has every assessment the subject's periods call for (art. 6–7): what the term needs."""
    return (
        len(entry.get("regular") or []) == regular_assessments(periods_per_year or 0)
        and entry.get("midterm") is not None
        and entry.get("final") is not None
    )


def _primary(
    grade: int,
    periods: dict[str, int | None],
    marks: dict[str, dict[str, dict[str, Any]]],
    terms: dict[str, dict[str, Any]],
) -> StudentResults:
    out = StudentResults()
    names = {code: subject(code, grade).name for code in periods}
    levels: dict[str, str] = {}
    tests: dict[str, int] = {}
    for code in periods:
        end = marks.get(code, {}).get("hk2") or {}
        for term in TERMS:
            level = (marks.get(code, {}).get(term) or {}).get("level")
            if level:
                out.averages[(code, term)] = level
        if end.get("level"):
            levels[code] = end["level"]
            out.averages[(code, "year")] = end["level"]
        if end.get("test") is not None:
            tests[code] = int(end["test"])
    record = terms.get("hk2") or {}
    qualities, competencies = record.get("qualities") or {}, record.get("competencies") or {}
    complete = (
        periods
        and len(levels) == len(periods)
        and all(code in tests for code in periods if tt27.needs_test(code))
        and set(qualities) == set(tt27.QUALITIES)
        and set(competencies) == set(tt27.COMPETENCIES)
    )
    if complete:
        result = tt27.year_result(levels, qualities, competencies, tests, names)
        prize = tt27.award(str(result.value))
        out.year.update({"year_result": str(result.value), "award": prize.value})
        out.explanations.update({"year_result": result.why, "award": prize.why})
    return out
