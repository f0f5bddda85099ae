"""`hocba rules evaluate`: one student's school year in, every computed result out (contract: rules-cli.md).

"The whole year" extensions are implemented: comment subjects given by assessment, ``exempt`` terms ("Miễn"),
``retest`` per subject with ``learning_result_after_retest`` and ``promotion_after_retest``, and
``reporting_cutoff``; TT27 adds ``completion`` and ``reporting_cutoff``. Inputs beyond the page, project decisions:
for TT27 the summer's supplementary assessment (art. 11, supplementary.py) — ``reassessed`` on a subject
(``{"level": "H", "test": 6}``), ``reassessed_traits`` (quality/competency → T/Đ/C) and ``principal_promotes`` (the
principal's art. 11 §3 decision, true/false) — giving ``supplementary_due``, per subject ``year_after_supplementary``,
and ``year_result_after_supplementary``, ``completion_after_supplementary``, ``promotion_after_supplementary``; and ``conduct_after_summer`` (Tốt/Khá/Đạt/Chưa đạt), the conduct re-assessed after summer training (art. 13),
without which a student sent to summer training could never be promoted again; without it the year's conduct stands;
and ``"individual_plan": true`` on a subject of either circular (TT22 art. 10, individual_plan.py): the subject is
assessed against the student's individual education plan, the results computed the same, the reasons and the
subject's output row saying so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from services.gradebook.domain import supplementary, tt22, tt27
from services.gradebook.domain.curriculum import Assessment, regular_assessments, subject
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.explain import TERM_LABEL
from services.gradebook.domain.scores import ScoreInvalid, tt22_score, tt27_test_score
from services.gradebook.domain.year import (
    TERMS,
    CommentTerm,
    LevelTerm,
    ScoreTerm,
    SecondaryYear,
    SubjectYear,
    primary_year,
    secondary_year,
)

_ROOT_KEYS = {
    "tt22": ("circular", "grade", "subjects", "conduct", "absences", "conduct_after_summer"),
    "tt27": (
        "circular",
        "grade",
        "subjects",
        "qualities",
        "competencies",
        "reassessed_traits",
        "principal_promotes",
    ),
}
_GRADES = {"tt22": range(6, 13), "tt27": range(1, 6)}


def evaluate(payload: Any, *, explain: bool = False) -> dict[str, Any]:
    """Validate ``payload`` and compute its results; RuleInputError names the first bad field.

    With ``explain`` the output gains ``explanations``: for every computed value (keyed ``toan.hk1``,
    ``learning_result.year``, ``promotion``…) the rule and the numbers behind it, in Vietnamese."""
    # Level words typed on some systems arrive decomposed (NFD); compare them in the composed form.
    payload = _nfc(payload)
    if not isinstance(payload, dict):
        raise RuleInputError("(root)", "expected a JSON object")
    circular = payload.get("circular")
    if circular not in _ROOT_KEYS:
        raise RuleInputError("circular", f"must be tt22 or tt27, got {circular!r}")
    _known_keys(payload, _ROOT_KEYS[circular], "")
    grade = payload.get("grade")
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise RuleInputError("grade", f"must be an integer, got {grade!r}")
    if grade not in _GRADES[circular]:
        grades = _GRADES[circular]
        raise RuleInputError(
            "grade", f"{circular.upper()} covers grades {grades[0]}–{grades[-1]}, got {grade}"
        )
    subjects = payload.get("subjects")
    if not isinstance(subjects, list) or not subjects:
        raise RuleInputError("subjects", "must be a non-empty list of subjects")
    seen: set[str] = set()
    for i, item in enumerate(subjects):
        if not isinstance(item, dict):
            raise RuleInputError(f"subjects[{i}]", "must be an object")
        code = item.get("code")
        if not isinstance(code, str) or not code:
            raise RuleInputError(f"subjects[{i}].code", "missing subject code")
        if code in seen:
            raise RuleInputError(f"subjects[{i}].code", f"subject {code!r} appears twice")
        seen.add(code)
    result = _tt22(payload, grade) if circular == "tt22" else _tt27(payload, grade)
    explanations = result.pop("explanations")
    if explain:
        result["explanations"] = explanations
    return result


# -- shared validation ---------------------------------------------------------------------------------------------


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _known_keys(data: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    # A misspelt optional field ("condcut") would otherwise silently drop what it should have produced.
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            raise RuleInputError(_path(where, str(key)), f"unknown field; expected {', '.join(allowed)}")


def _score(value: Any, where: str) -> Decimal:
    """TT22 art. 6, by the one score check the API uses too (scores.py), its English message named by field."""
    try:
        return tt22_score(value, where)
    except ScoreInvalid as error:
        raise RuleInputError(error.field, error.problem, error.detail_vi) from None


def _test_score(value: Any, where: str) -> int:
    """TT27 art. 7, by the one periodic-test check the API uses too (scores.py)."""
    try:
        return tt27_test_score(value, where)
    except ScoreInvalid as error:
        raise RuleInputError(error.field, error.problem, error.detail_vi) from None


def _positive_int(value: Any, where: str, problem: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise RuleInputError(where, f"{problem}, got {value!r}")
    return value


def _term(item: dict[str, Any], term: str, where: str, allowed: Iterable[str]) -> dict[str, Any]:
    data = item.get(term)
    if data is None:
        raise RuleInputError(f"{where}.{term}", f"missing term ({TERM_LABEL[term]})")
    if not isinstance(data, dict):
        raise RuleInputError(f"{where}.{term}", "must be an object")
    _known_keys(data, allowed, f"{where}.{term}")
    return data


def _name(item: dict[str, Any], code: str, grade: int, where: str) -> str:
    name = item.get("name")
    if name is None:
        try:
            return subject(code, grade).name
        except KeyError:
            return code
    if not isinstance(name, str) or not name.strip():
        raise RuleInputError(f"{where}.name", f"must be the subject's name, got {name!r}")
    return name


# -- TT22 ----------------------------------------------------------------------------------------------------------

_TT22_SUBJECT_KEYS = (
    "code",
    "name",
    "assessment",
    "periods_per_year",
    "hk1",
    "hk2",
    "exempt",
    "retest",
    "individual_plan",
)
_SCORE_TERM_KEYS = ("regular", "midterm", "final")
_COMMENT_TERM_KEYS = ("result", "regular", "midterm", "final")


def _assessment_kind(item: dict[str, Any], code: str, grade: int, where: str) -> Assessment:
    """The subject's kind: as given, else from the programme's list; a known code must keep its known kind."""
    given = item.get("assessment")
    try:
        known: str | None = subject(code, grade).assessment.value
    except KeyError:
        known = None
    if given is None and known is not None:
        return Assessment(known)
    if given not in (Assessment.SCORE.value, Assessment.COMMENT.value):
        raise RuleInputError(f"{where}.assessment", f"must be 'score' or 'comment', got {given!r}")
    if known is not None and given != known:
        raise RuleInputError(
            f"{where}.assessment", f"{code} is assessed by {known} under TT22 art. 5, got {given!r}"
        )
    return Assessment(given)


def _tt22(payload: dict[str, Any], grade: int) -> dict[str, Any]:
    subjects = []
    for i, item in enumerate(payload["subjects"]):
        where = f"subjects[{i}]"
        _known_keys(item, _TT22_SUBJECT_KEYS, where)
        code = item["code"]
        name = _name(item, code, grade, where)
        if _assessment_kind(item, code, grade, where) is Assessment.SCORE:
            found = _scored_subject(item, code, name, where)
        else:
            found = _comment_subject(item, code, name, where)
        subjects.append(replace(found, individual_plan=_on_plan(item, where)))
    absences = payload.get("absences", 0)
    if isinstance(absences, bool) or not isinstance(absences, int) or absences < 0:
        raise RuleInputError(
            "absences", f"must be the number of sessions missed (an integer ≥ 0), got {absences!r}"
        )
    conduct = None
    if "conduct" in payload:
        conduct = _conduct(payload["conduct"])
        conduct_after = payload.get("conduct_after_summer")
        if conduct_after is not None and conduct_after not in tt22.LEVELS:
            raise RuleInputError(
                "conduct_after_summer", f"must be one of {', '.join(tt22.LEVELS)}, got {conduct_after!r}"
            )
    elif "conduct_after_summer" in payload:
        raise RuleInputError("conduct_after_summer", "needs the year's conduct (conduct) first")
    else:
        conduct_after = None
    year = secondary_year(
        grade, subjects, conduct=conduct, absences=absences, conduct_after_summer=conduct_after
    )
    return _with_plan(_tt22_output(year), subjects)


def _on_plan(item: dict[str, Any], where: str) -> bool:
    """``"individual_plan": true``: the student is assessed in the subject against an individual education plan
    (TT22 art. 10, individual_plan.py): the same values, the reasons naming the plan."""
    flag = item.get("individual_plan", False)
    if not isinstance(flag, bool):
        raise RuleInputError(f"{where}.individual_plan", f"must be true or false, got {flag!r}")
    return flag


def _with_plan(out: dict[str, Any], subjects: list[SubjectYear]) -> dict[str, Any]:
    """The output's subject rows say which followed the plan (in the input's order, as the rows are)."""
    for row, s in zip(out["subjects"], subjects, strict=True):
        if s.individual_plan:
            row["individual_plan"] = True
    return out


def _tt22_output(year: SecondaryYear) -> dict[str, Any]:
    """The contract's JSON (rules-cli.md): averages as numbers, everything the input asked for."""
    out_subjects = []
    for result in year.subjects:
        row: dict[str, Any] = {"code": result.code}
        # Decimal → float is exact enough here: a one-decimal value prints back as the same shortest text ("7.8").
        row.update({period: _json(value) for period, value in result.results.items()})
        if result.after_retest is not None:
            row["year_after_retest"] = _json(result.after_retest)
        out_subjects.append(row)
    out: dict[str, Any] = {"subjects": out_subjects, "learning_result": dict(year.learning)}
    if year.adjustments:
        out["adjustment"] = {
            period: {
                "subject": a.subject,
                "would_be": a.would_be,
                "computed": a.computed,
                "adjusted": a.adjusted,
            }
            for period, a in year.adjustments.items()
        }
    if year.learning_after_retest is not None:
        out["learning_result_after_retest"] = year.learning_after_retest
    if year.decision is not None:
        out["conduct"] = dict(year.conduct)
        out["promotion"] = {
            "outcome": year.decision.outcome,
            "retest_subjects": list(year.decision.retest_subjects),
        }
        out["reporting_cutoff"] = year.decision.reporting_cutoff
        out["award"] = year.decision.award
    if year.promotion_after_retest is not None:
        out["promotion_after_retest"] = {"outcome": year.promotion_after_retest}
    out["explanations"] = dict(year.explanations)
    return out


def _json(value: Decimal | str) -> float | str:
    return float(value) if isinstance(value, Decimal) else value


def _exempt_terms(item: dict[str, Any], where: str) -> frozenset[str]:
    """The terms a principal's decision exempted the subject from (miễn học): a list of hk1/hk2."""
    exempt = item.get("exempt", [])
    if not isinstance(exempt, list) or any(t not in TERMS for t in exempt) or len(set(exempt)) != len(exempt):
        raise RuleInputError(
            f"{where}.exempt", f"must be a list of terms (hk1, hk2), each once, got {exempt!r}"
        )
    for term in exempt:
        if item.get(term) is not None:
            raise RuleInputError(
                f"{where}.{term}", "the subject is exempt (exempt) for this term: give no assessments"
            )
    return frozenset(exempt)


def _regular(data: dict[str, Any], where: str, name: str, periods: int) -> list[Any]:
    required = regular_assessments(periods)
    regular = data.get("regular")
    if not isinstance(regular, list) or len(regular) != required:
        got = len(regular) if isinstance(regular, list) else "none"
        raise RuleInputError(
            f"{where}.regular",
            f"{name} has {periods} periods a year, so {required} regular assessments are required, got {got}",
        )
    return regular


def _scored_subject(item: dict[str, Any], code: str, name: str, where: str) -> SubjectYear:
    exempt = _exempt_terms(item, where)
    periods = (
        None
        if exempt == set(TERMS)
        else _positive_int(
            item.get("periods_per_year"),
            f"{where}.periods_per_year",
            "a scored subject needs its periods per year (a positive integer)",
        )
    )
    terms: dict[str, ScoreTerm] = {}
    for term in TERMS:
        if term in exempt:
            continue
        assert periods is not None
        data = _term(item, term, where, _SCORE_TERM_KEYS)
        regular = _regular(data, f"{where}.{term}", name, periods)
        marks = tuple(_score(v, f"{where}.{term}.regular[{j}]") for j, v in enumerate(regular))
        for key in ("midterm", "final"):
            if data.get(key) is None:
                raise RuleInputError(f"{where}.{term}.{key}", f"missing {key} score")
        terms[term] = ScoreTerm(
            marks,
            _score(data["midterm"], f"{where}.{term}.midterm"),
            _score(data["final"], f"{where}.{term}.final"),
        )
    retest = None
    if "retest" in item:
        if not terms:
            raise RuleInputError(f"{where}.retest", f"{name} is exempt for the whole year: no re-test")
        retest = _score(item["retest"], f"{where}.retest")
    return SubjectYear(
        code, name, Assessment.SCORE, periods, terms.get("hk1"), terms.get("hk2"), exempt, retest
    )


def _comment_subject(item: dict[str, Any], code: str, name: str, where: str) -> SubjectYear:
    exempt = _exempt_terms(item, where)
    periods = item.get("periods_per_year")
    if periods is not None:
        _positive_int(periods, f"{where}.periods_per_year", "must be a positive integer")
    terms: dict[str, CommentTerm] = {}
    for term in TERMS:
        if term in exempt:
            continue
        data = _term(item, term, where, _COMMENT_TERM_KEYS)
        terms[term] = _comment_term(data, f"{where}.{term}", name, periods)
    retest = None
    if "retest" in item:
        if not terms:
            raise RuleInputError(f"{where}.retest", f"{name} is exempt for the whole year: no re-test")
        retest = _comment_mark(item["retest"], f"{where}.retest")
    return SubjectYear(
        code, name, Assessment.COMMENT, periods, terms.get("hk1"), terms.get("hk2"), exempt, retest
    )


def _comment_mark(value: Any, where: str) -> str:
    if value not in (tt22.PASS, tt22.FAIL):
        raise RuleInputError(where, f"must be Đ or CĐ, got {value!r}")
    return str(value)


def _comment_term(data: dict[str, Any], where: str, name: str, periods: int | None) -> CommentTerm:
    """A comment subject's term: the teacher's ``result``, or the assessments it follows from, or both (then they
    must agree)."""
    given = _comment_mark(data["result"], f"{where}.result") if "result" in data else None
    listed = any(k in data for k in ("regular", "midterm", "final"))
    if not listed:
        if given is None:
            raise RuleInputError(
                where, "give the term result (Đ/CĐ) or the regular, midterm and final assessments"
            )
        return CommentTerm(result=given)
    # TT22 art. 6: the same number of regular assessments as a scored subject of the same periods, so the count
    # needs the periods (rules-cli.md, "The whole year").
    if periods is None:
        raise RuleInputError(
            f"{where.rsplit('.', 1)[0]}.periods_per_year",
            f"{name} gives its assessments, so it needs its periods per year (a positive integer)",
        )
    regular = _regular(data, where, name, periods)
    marks = tuple(_comment_mark(v, f"{where}.regular[{j}]") for j, v in enumerate(regular))
    ends = {}
    for key in ("midterm", "final"):
        if data.get(key) is None:
            raise RuleInputError(f"{where}.{key}", f"missing {key} assessment (Đ/CĐ)")
        ends[key] = _comment_mark(data[key], f"{where}.{key}")
    if given is not None:
        computed = tt22.comment_term_result(
            marks, ends["midterm"], ends["final"], required_regular=regular_assessments(periods)
        )
        if given != computed.value:
            raise RuleInputError(
                f"{where}.result",
                f"says {given} but the term's assessments give {computed.value} (TT22 art. 9 §1a)",
            )
    return CommentTerm(marks, ends["midterm"], ends["final"], given)


def _conduct(conduct: Any) -> dict[str, str]:
    """The conduct of both terms (art. 8), which the year's conduct, promotion and awards need."""
    if not isinstance(conduct, dict):
        raise RuleInputError("conduct", "must be an object with hk1 and hk2")
    _known_keys(conduct, TERMS, "conduct")
    for term in TERMS:
        if conduct.get(term) not in tt22.LEVELS:
            raise RuleInputError(
                f"conduct.{term}", f"must be one of {', '.join(tt22.LEVELS)}, got {conduct.get(term)!r}"
            )
    return {term: str(conduct[term]) for term in TERMS}


# -- TT27 ----------------------------------------------------------------------------------------------------------

_TT27_SUBJECT_KEYS = ("code", "name", "hk1", "hk2", "reassessed", "individual_plan")
_LEVEL_TERM_KEYS = ("level", "test", "midterm_test")


def _tt27(payload: dict[str, Any], grade: int) -> dict[str, Any]:
    subjects = []
    for i, item in enumerate(payload["subjects"]):
        where = f"subjects[{i}]"
        _known_keys(item, _TT27_SUBJECT_KEYS, where)
        code = item["code"]
        name = _name(item, code, grade, where)
        if tt27.taught_in(code, grade) is False:
            raise RuleInputError(f"{where}.code", f"{name} ({code}) is not taught in grade {grade}")
        terms = {}
        for term in TERMS:
            data = _term(item, term, where, _LEVEL_TERM_KEYS)
            level = data.get("level")
            if level not in tt27.SUBJECT_LEVELS:
                raise RuleInputError(f"{where}.{term}.level", f"must be T, H or C, got {level!r}")
            terms[term] = LevelTerm(level, _periodic_test(data, code, name, grade, term, where))
        again = _reassessed(item.get("reassessed"), code, name, grade, where)
        subjects.append(
            SubjectYear(
                code,
                name,
                Assessment.LEVEL,
                None,
                terms["hk1"],
                terms["hk2"],
                reassessed=again,
                individual_plan=_on_plan(item, where),
            )
        )
    groups = (("qualities", tt27.QUALITIES), ("competencies", tt27.competencies(grade)))
    traits = {group: _traits(payload.get(group), group, keys, grade) for group, keys in groups}
    traits_after = payload.get("reassessed_traits")
    if traits_after is not None:
        _traits_after(traits_after, grade)
    promotes = payload.get("principal_promotes")
    if promotes is not None and not isinstance(promotes, bool):
        raise RuleInputError("principal_promotes", f"must be true or false, got {promotes!r}")
    year = primary_year(
        grade,
        subjects,
        qualities=traits["qualities"],
        competencies=traits["competencies"],
        traits_after=traits_after,
        principal_promotes=promotes,
    )
    assert year.decision is not None  # validated: every subject, test, quality and competency is there
    out: dict[str, Any] = {
        "subjects": [{"code": r.code, "year": r.results["year"]} for r in year.subjects],
        "year_result": year.decision.year_result,
        "award": year.decision.award,
        "completion": year.decision.completion,
        "reporting_cutoff": year.decision.reporting_cutoff,
        "year_tests": dict(year.year_tests),
        "explanations": dict(year.explanations),
    }
    _with_plan(out, subjects)
    if any(s.reassessed for s in subjects) or traits_after is not None or promotes is not None:
        _only_due(subjects, traits_after or {}, year.due)
        out["supplementary_due"] = {"subjects": list(year.due.subjects), "traits": list(year.due.traits)}
        for line, result in zip(out["subjects"], year.subjects, strict=True):
            if result.after_retest is not None:
                line["year_after_supplementary"] = result.after_retest
        after = year.after_supplementary
        if after is not None:
            out["year_result_after_supplementary"] = after.year_result
            out["completion_after_supplementary"] = after.completion
            out["promotion_after_supplementary"] = after.promotion
    return out


def _reassessed(data: Any, code: str, name: str, grade: int, where: str) -> LevelTerm | None:
    """A subject's supplementary assessment (TT27 art. 11): its level and, where the subject has one, its test."""
    if data is None:
        return None
    where = f"{where}.reassessed"
    if not isinstance(data, dict):
        raise RuleInputError(where, "must be an object with level (and test)")
    _known_keys(data, ("level", "test"), where)
    if data.get("level") not in tt27.SUBJECT_LEVELS:
        raise RuleInputError(f"{where}.level", f"must be T, H or C, got {data.get('level')!r}")
    test = data.get("test")
    if test is None and tt27.needs_test(code, grade):
        raise RuleInputError(f"{where}.test", f"{name} is re-assessed with a test in grade {grade}")
    if test is not None and not tt27.may_have_test(code, grade):
        raise RuleInputError(f"{where}.test", f"{name} has no periodic test in grade {grade} (TT27 art. 7)")
    return LevelTerm(data["level"], None if test is None else _test_score(test, f"{where}.test"))


def _traits_after(values: Any, grade: int) -> None:
    if not isinstance(values, dict):
        raise RuleInputError("reassessed_traits", "must be an object of quality or competency → T, Đ or C")
    _known_keys(values, tt27.QUALITIES + tt27.competencies(grade), "reassessed_traits")
    for key, level in values.items():
        if level not in tt27.QUALITY_LEVELS:
            raise RuleInputError(f"reassessed_traits.{key}", f"must be T, Đ or C, got {level!r}")


def _only_due(subjects: list[SubjectYear], traits_after: dict[str, str], due: supplementary.Due) -> None:
    """Art. 11 re-assesses only what kept the pupil below Hoàn thành (supplementary.due): anything else is refused."""
    for i, s in enumerate(subjects):
        if s.reassessed is not None and s.code not in due.subjects:
            raise RuleInputError(
                f"subjects[{i}].reassessed",
                f"{s.name} is not re-assessed: only a subject at C or with an end-of-year test below 5, of a pupil "
                "not complete (TT27 art. 11)",
            )
    for key in traits_after:
        if key not in due.traits:
            raise RuleInputError(
                f"reassessed_traits.{key}",
                "is not re-assessed: only a quality or competency at C, of a pupil not complete (TT27 art. 11)",
            )


def _periodic_test(
    data: dict[str, Any], code: str, name: str, grade: int, term: str, where: str
) -> int | None:
    """The end-of-term test where the subject and grade have one (required), and the optional mid-term test of
    grades 4–5, validated but not used: the year result reads only the end-of-year tests."""
    when = "term I" if term == "hk1" else "the year"
    test = data.get("test")
    if test is None and tt27.needs_test(code, grade):
        raise RuleInputError(
            f"{where}.{term}.test", f"{name} has a periodic test at the end of {when} in grade {grade}"
        )
    if test is not None and not tt27.may_have_test(code, grade):
        raise RuleInputError(
            f"{where}.{term}.test", f"{name} has no periodic test in grade {grade} (TT27 art. 7)"
        )
    midterm = data.get("midterm_test")
    if midterm is not None:
        if not tt27.has_midterm_test(code, grade):
            raise RuleInputError(
                f"{where}.{term}.midterm_test",
                f"only Tiếng Việt and Toán in grades 4–5 have mid-term tests (TT27 art. 7), not {name} in grade {grade}",
            )
        _test_score(midterm, f"{where}.{term}.midterm_test")
    return None if test is None else _test_score(test, f"{where}.{term}.test")


def _traits(values: Any, group: str, keys: tuple[str, ...], grade: int) -> dict[str, str]:
    if not isinstance(values, dict):
        raise RuleInputError(group, f"must be an object with {', '.join(keys)}")
    for key in values:
        if key in tt27.COMPETENCIES and key not in keys:
            raise RuleInputError(f"{group}.{key}", f"is not assessed in grade {grade} (from grade 3)")
    _known_keys(values, keys, group)
    for key in keys:
        if values.get(key) not in tt27.QUALITY_LEVELS:
            raise RuleInputError(f"{group}.{key}", f"must be T, Đ or C, got {values.get(key)!r}")
    return values
