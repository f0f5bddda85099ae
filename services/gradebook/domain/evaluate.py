"""`hocba rules evaluate`: one student's school year in, every computed result out (contract: rules-cli.md)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from services.gradebook.domain import tt22, tt27
from services.gradebook.domain.curriculum import regular_assessments
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.rounding import dec, vn

TERMS = ("hk1", "hk2")


def evaluate(payload: Any, *, explain: bool = False) -> dict[str, Any]:
    """Validate ``payload`` and compute its results; RuleInputError names the first bad field."""
    if not isinstance(payload, dict):
        raise RuleInputError("(root)", "expected a JSON object")
    circular = payload.get("circular")
    grade = payload.get("grade")
    if circular not in ("tt22", "tt27"):
        raise RuleInputError("circular", f"must be tt22 or tt27, got {circular!r}")
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise RuleInputError("grade", f"must be an integer, got {grade!r}")
    if circular == "tt22" and not 6 <= grade <= 12:
        raise RuleInputError("grade", f"TT22 covers grades 6–12, got {grade}")
    if circular == "tt27" and not 1 <= grade <= 5:
        raise RuleInputError("grade", f"TT27 covers grades 1–5, got {grade}")
    subjects = payload.get("subjects")
    if not isinstance(subjects, list) or not subjects:
        raise RuleInputError("subjects", "must be a non-empty list")
    codes = [s.get("code") if isinstance(s, dict) else None for s in subjects]
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not code:
            raise RuleInputError(f"subjects[{i}].code", "missing subject code")
        if codes.index(code) != i:
            raise RuleInputError(f"subjects[{i}].code", f"subject {code!r} appears twice")
    result = _tt22(payload, grade) if circular == "tt22" else _tt27(payload, grade)
    if not explain:
        result.pop("explanations", None)
    return result


# -- TT22 ----------------------------------------------------------------------------------------------------------


def _score(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleInputError(where, f"must be a score 0–10, got {value!r}")
    try:
        number = dec(value)
    except InvalidOperation:
        raise RuleInputError(where, f"must be a score 0–10, got {value!r}") from None
    if not number.is_finite() or not 0 <= number <= 10:
        raise RuleInputError(where, f"score must be within 0–10, got {value}")
    if number != number.quantize(Decimal("0.1")):
        raise RuleInputError(where, f"score has at most one decimal, got {value}")
    return number


def _term(subject: dict[str, Any], term: str, where: str) -> dict[str, Any]:
    data = subject.get(term)
    if not isinstance(data, dict):
        raise RuleInputError(f"{where}.{term}", "missing term")
    return data


def _tt22(payload: dict[str, Any], grade: int) -> dict[str, Any]:
    explanations: dict[str, str] = {}
    out_subjects = []
    scored: dict[str, dict[str, Decimal]] = {"hk1": {}, "hk2": {}, "year": {}}
    commented: dict[str, dict[str, str]] = {"hk1": {}, "hk2": {}, "year": {}}
    names: dict[str, str] = {}
    for i, subject in enumerate(payload["subjects"]):
        where = f"subjects[{i}]"
        code, kind = subject["code"], subject.get("assessment")
        names[code] = subject.get("name") or code
        if kind == "score":
            periods_per_year = subject.get("periods_per_year")
            if (
                isinstance(periods_per_year, bool)
                or not isinstance(periods_per_year, int)
                or periods_per_year <= 0
            ):
                raise RuleInputError(
                    f"{where}.periods_per_year", "a scored subject needs its periods per year"
                )
            required = regular_assessments(periods_per_year)
            averages = {}
            for term in TERMS:
                data = _term(subject, term, where)
                regular = data.get("regular")
                if not isinstance(regular, list) or len(regular) != required:
                    got = len(regular) if isinstance(regular, list) else "none"
                    raise RuleInputError(
                        f"{where}.{term}.regular",
                        f"{names[code]} has {periods_per_year} periods a year, so {required} regular assessments "
                        f"are required, got {got}",
                    )
                marks = [_score(v, f"{where}.{term}.regular[{j}]") for j, v in enumerate(regular)]
                for key in ("midterm", "final"):
                    if key not in data:
                        raise RuleInputError(f"{where}.{term}.{key}", "missing")
                average = tt22.term_average(
                    marks,
                    _score(data["midterm"], f"{where}.{term}.midterm"),
                    _score(data["final"], f"{where}.{term}.final"),
                )
                averages[term] = average.value
                scored[term][code] = average.value
                explanations[f"{code}.{term}"] = (
                    f"{names[code]}, học kỳ {'I' if term == 'hk1' else 'II'}: {average.why}"
                )
            year = tt22.year_average(averages["hk1"], averages["hk2"])
            scored["year"][code] = year.value
            explanations[f"{code}.year"] = f"{names[code]}, cả năm: {year.why}"
            out_subjects.append(
                {
                    "code": code,
                    "hk1": float(averages["hk1"]),
                    "hk2": float(averages["hk2"]),
                    "year": float(year.value),
                }
            )
        elif kind == "comment":
            results = {}
            for term in TERMS:
                data = _term(subject, term, where)
                results[term] = _comment_result(
                    data, f"{where}.{term}", names[code], explanations, f"{code}.{term}"
                )
                commented[term][code] = results[term]
            commented["year"][code] = results["hk2"]
            explanations[f"{code}.year"] = (
                f"{names[code]}, cả năm: theo kết quả học kỳ II ({results['hk2']}) (Điều 9)"
            )
            out_subjects.append(
                {"code": code, "hk1": results["hk1"], "hk2": results["hk2"], "year": results["hk2"]}
            )
        else:
            raise RuleInputError(f"{where}.assessment", f"must be 'score' or 'comment', got {kind!r}")
    learning: dict[str, str] = {}
    adjustments: dict[str, str] = {}
    for period in ("hk1", "hk2", "year"):
        p = tt22.Period(scored[period], commented[period], names)
        result = tt22.learning_result(p)
        learning[period] = str(result.value)
        explanations[f"learning_result.{period}"] = result.why
        if (culprit := tt22.adjustment_subject(p)) is not None:
            adjustments[period] = culprit
    out: dict[str, Any] = {"subjects": out_subjects, "learning_result": learning}
    if adjustments:
        out["adjustment"] = adjustments
    conduct = payload.get("conduct")
    if conduct is not None:
        if not isinstance(conduct, dict):
            raise RuleInputError("conduct", "must be an object with hk1 and hk2")
        for term in TERMS:
            if conduct.get(term) not in tt22.LEVELS:
                raise RuleInputError(
                    f"conduct.{term}", f"must be one of {', '.join(tt22.LEVELS)}, got {conduct.get(term)!r}"
                )
        year = tt22.conduct_year(conduct["hk1"], conduct["hk2"])
        out["conduct"] = {"hk1": conduct["hk1"], "hk2": conduct["hk2"], "year": year.value}
        explanations["conduct.year"] = year.why
        absences = payload.get("absences", 0)
        if isinstance(absences, bool) or not isinstance(absences, int) or absences < 0:
            raise RuleInputError("absences", f"must be a non-negative integer, got {absences!r}")
        retest = [c for c, v in scored["year"].items() if v < 5] + [
            c for c, r in commented["year"].items() if r == tt22.FAIL
        ]
        promoted = tt22.promotion(grade, str(year.value), learning["year"], absences, retest)
        out["promotion"] = promoted.value
        explanations["promotion"] = promoted.why
        prize = tt22.award(str(year.value), learning["year"], list(scored["year"].values()))
        out["award"] = prize.value
        explanations["award"] = prize.why
    out["explanations"] = explanations
    return out


def _comment_result(
    data: dict[str, Any], where: str, name: str, explanations: dict[str, str], key: str
) -> str:
    if "result" in data:
        if data["result"] not in (tt22.PASS, tt22.FAIL):
            raise RuleInputError(f"{where}.result", f"must be Đ or CĐ, got {data['result']!r}")
        explanations[key] = f"{name}: kết quả học kỳ do giáo viên ghi {data['result']}"
        return str(data["result"])
    regular = data.get("regular")
    if not isinstance(regular, list) or "midterm" not in data or "final" not in data:
        raise RuleInputError(where, "give either result (Đ/CĐ) or regular, midterm and final assessments")
    marks = [*regular, data["midterm"], data["final"]]
    for j, mark in enumerate(marks):
        if mark not in (tt22.PASS, tt22.FAIL):
            raise RuleInputError(
                f"{where}.{'regular[' + str(j) + ']' if j < len(regular) else 'midterm/final'}",
                f"must be Đ or CĐ, got {mark!r}",
            )
    result = tt22.comment_term_result(marks, data["final"])
    explanations[key] = f"{name}: {result.why}"
    return str(result.value)


# -- TT27 ----------------------------------------------------------------------------------------------------------


def _tt27(payload: dict[str, Any], grade: int) -> dict[str, Any]:
    explanations: dict[str, str] = {}
    names: dict[str, str] = {}
    year_levels: dict[str, str] = {}
    year_tests: dict[str, int] = {}
    out_subjects = []
    for i, subject in enumerate(payload["subjects"]):
        where = f"subjects[{i}]"
        code = subject["code"]
        names[code] = subject.get("name") or code
        for term in TERMS:
            data = _term(subject, term, where)
            level = data.get("level")
            if level not in tt27.SUBJECT_LEVELS:
                raise RuleInputError(f"{where}.{term}.level", f"must be T, H or C, got {level!r}")
            test = data.get("test")
            if test is None and tt27.needs_test(code):
                raise RuleInputError(
                    f"{where}.{term}.test",
                    f"{names[code]} has a periodic test at the end of "
                    f"{'term I' if term == 'hk1' else 'the year'}",
                )
            if test is not None and (
                isinstance(test, bool) or not isinstance(test, int) or not 1 <= test <= 10
            ):
                raise RuleInputError(
                    f"{where}.{term}.test", f"a periodic test score is an integer 1–10, got {test!r}"
                )
            if test is not None and term == "hk2":
                year_tests[code] = test
        year_levels[code] = subject["hk2"]["level"]
        explanations[f"{code}.year"] = (
            f"{names[code]}: cả năm theo đánh giá cuối năm học ({tt27.SUBJECT_LEVELS[year_levels[code]]})"
        )
        out_subjects.append({"code": code, "year": year_levels[code]})
    traits = {}
    for group, keys in (("qualities", tt27.QUALITIES), ("competencies", tt27.COMPETENCIES)):
        values = payload.get(group)
        if not isinstance(values, dict):
            raise RuleInputError(group, f"must be an object with {', '.join(keys)}")
        for key in keys:
            if values.get(key) not in tt27.QUALITY_LEVELS:
                raise RuleInputError(f"{group}.{key}", f"must be T, Đ or C, got {values.get(key)!r}")
        unknown = sorted(set(values) - set(keys))
        if unknown:
            raise RuleInputError(f"{group}.{unknown[0]}", f"unknown; expected {', '.join(keys)}")
        traits[group] = values
    result = tt27.year_result(year_levels, traits["qualities"], traits["competencies"], year_tests, names)
    explanations["year_result"] = result.why
    prize = tt27.award(str(result.value))
    explanations["award"] = prize.why
    return {
        "subjects": out_subjects,
        "year_result": result.value,
        "award": prize.value,
        "explanations": explanations,
        "tests": {c: vn(t) for c, t in year_tests.items()},
    }
