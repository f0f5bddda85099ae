"""`hocba rules evaluate`: one student's school year in, every computed result out (contract: rules-cli.md).

"The whole year" extensions are implemented: comment subjects given by assessment, ``exempt`` terms ("Miễn"),
``retest`` per subject with ``learning_result_after_retest`` and ``promotion_after_retest``, and
``reporting_cutoff``; TT27 adds ``completion`` and ``reporting_cutoff``. One input beyond the page, a project
decision: ``conduct_after_summer`` (Tốt/Khá/Đạt/Chưa đạt), the conduct re-assessed after summer training (art. 14),
without which a student sent to summer training could never be promoted again; without it the year's conduct stands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from services.gradebook.domain import tt22, tt27
from services.gradebook.domain.curriculum import Assessment, regular_assessments, subject
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.explain import TERM_LABEL, Explained, vn
from services.gradebook.domain.rounding import dec, has_one_decimal_at_most

TERMS = ("hk1", "hk2")
_ROOT_KEYS = {
    "tt22": ("circular", "grade", "subjects", "conduct", "absences", "conduct_after_summer"),
    "tt27": ("circular", "grade", "subjects", "qualities", "competencies"),
}
_GRADES = {"tt22": range(6, 13), "tt27": range(1, 6)}
# Scores may come as JSON numbers or, as the gradebook API stores them, as decimal text ("7.5"); nothing else
# (no "NaN", no exponent, no spaces) so that text cannot smuggle in what a number could not.
_DECIMAL_TEXT = re.compile(r"\d{1,2}(\.\d+)?")


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


def _number(value: Any, where: str, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleInputError(where, f"must be {what}, got {value!r}")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise RuleInputError(where, f"must be {what}, got {value!r}")
    number = dec(value)
    if not number.is_finite():
        raise RuleInputError(where, f"must be {what}, got {value!r}")
    return number


def _score(value: Any, where: str) -> Decimal:
    """TT22 art. 6: a score is 0–10, an integer or one decimal."""
    number = _number(value, where, "a score 0–10")
    if not 0 <= number <= 10:
        raise RuleInputError(where, f"score must be within 0–10, got {value}")
    if not has_one_decimal_at_most(number):
        raise RuleInputError(where, f"score has at most one decimal, got {value}")
    return number


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

_TT22_SUBJECT_KEYS = ("code", "name", "assessment", "periods_per_year", "hk1", "hk2", "exempt", "retest")
EXEMPT = "Miễn"
_SCORE_TERM_KEYS = ("regular", "midterm", "final")
_COMMENT_TERM_KEYS = ("result", "regular", "midterm", "final")


class _Tt22Sheet:
    """What one evaluation collects: the per-period results that the learning result reads, and the reasons."""

    def __init__(self) -> None:
        self.scored: dict[str, dict[str, Decimal]] = {"hk1": {}, "hk2": {}, "year": {}}
        self.commented: dict[str, dict[str, str]] = {"hk1": {}, "hk2": {}, "year": {}}
        self.names: dict[str, str] = {}
        self.explanations: dict[str, str] = {}
        # scored subjects exempted per period: the "at least 6" rows then count what the student studies
        self.exempted_scored = {"hk1": 0, "hk2": 0, "year": 0}
        self.retest_scored: dict[str, Decimal] = {}
        self.retest_commented: dict[str, str] = {}

    def period(self, period: str, *, after_retest: bool = False) -> tt22.Period:
        scored, commented = self.scored[period], self.commented[period]
        if after_retest:  # art. 13: the re-test result replaces the subject's year result
            scored, commented = {**scored, **self.retest_scored}, {**commented, **self.retest_commented}
        required = tt22.subjects_required(len(scored), self.exempted_scored[period])
        return tt22.Period(scored, commented, self.names, required)


def _assessment_kind(item: dict[str, Any], code: str, grade: int, where: str) -> str:
    """The subject's kind: as given, else from the programme's list; a known code must keep its known kind."""
    given = item.get("assessment")
    try:
        known: str | None = subject(code, grade).assessment.value
    except KeyError:
        known = None
    if given is None and known is not None:
        return known
    if given not in (Assessment.SCORE.value, Assessment.COMMENT.value):
        raise RuleInputError(f"{where}.assessment", f"must be 'score' or 'comment', got {given!r}")
    if known is not None and given != known:
        raise RuleInputError(
            f"{where}.assessment", f"{code} is assessed by {known} under TT22 art. 5, got {given!r}"
        )
    return str(given)


def _tt22(payload: dict[str, Any], grade: int) -> dict[str, Any]:
    sheet = _Tt22Sheet()
    out_subjects = []
    for i, item in enumerate(payload["subjects"]):
        where = f"subjects[{i}]"
        _known_keys(item, _TT22_SUBJECT_KEYS, where)
        code = item["code"]
        sheet.names[code] = _name(item, code, grade, where)
        if _assessment_kind(item, code, grade, where) == "score":
            out_subjects.append(_scored_subject(item, code, where, sheet))
        else:
            out_subjects.append(_comment_subject(item, code, where, sheet))
    out: dict[str, Any] = {"subjects": out_subjects, "learning_result": {}}
    for period in ("hk1", "hk2", "year"):
        p = sheet.period(period)
        result = tt22.learning_result(p)
        out["learning_result"][period] = result.value
        sheet.explanations[f"learning_result.{period}"] = result.why
        found = tt22.adjustment(p)
        if found is not None:
            out.setdefault("adjustment", {})[period] = {
                "subject": found.subject,
                "would_be": found.would_be,
                "computed": found.computed,
                "adjusted": found.adjusted,
            }
    if sheet.retest_scored or sheet.retest_commented:
        after = tt22.learning_result(sheet.period("year", after_retest=True))
        out["learning_result_after_retest"] = after.value
        sheet.explanations["learning_result_after_retest"] = after.why
    absences = payload.get("absences", 0)
    if isinstance(absences, bool) or not isinstance(absences, int) or absences < 0:
        raise RuleInputError(
            "absences", f"must be the number of sessions missed (an integer ≥ 0), got {absences!r}"
        )
    if "conduct" in payload:
        _conduct_and_after(payload["conduct"], grade, absences, out, sheet)
        _after_the_summer(payload.get("conduct_after_summer"), grade, absences, out, sheet)
    elif "conduct_after_summer" in payload:
        raise RuleInputError("conduct_after_summer", "needs the year's conduct (conduct) first")
    out["explanations"] = sheet.explanations
    return out


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


def _exempted(sheet: _Tt22Sheet, code: str, term: str) -> str:
    sheet.explanations[f"{code}.{term}"] = (
        f"{sheet.names[code]}, {TERM_LABEL[term]}: miễn học theo quyết định của hiệu trưởng, không tính vào kết quả "
        "học tập (Miễn)"
    )
    return EXEMPT


def _studied_one_term(sheet: _Tt22Sheet, code: str, term: str, value: str) -> None:
    """A subject exempted for one term only: its year result is the term it was studied (project decision; TT22 is
    silent), so the year still counts it."""
    sheet.explanations[f"{code}.year"] = (
        f"{sheet.names[code]}, cả năm: {value} theo {TERM_LABEL[term]}, học kỳ còn lại được miễn"
    )


def _scored_subject(item: dict[str, Any], code: str, where: str, sheet: _Tt22Sheet) -> dict[str, Any]:
    name = sheet.names[code]
    exempt = _exempt_terms(item, where)
    out: dict[str, Any] = {"code": code}
    averages: dict[str, Decimal] = {}
    periods = (
        None
        if exempt == set(TERMS)
        else _positive_int(
            item.get("periods_per_year"),
            f"{where}.periods_per_year",
            "a scored subject needs its periods per year (a positive integer)",
        )
    )
    for term in TERMS:
        if term in exempt:
            sheet.exempted_scored[term] += 1
            out[term] = _exempted(sheet, code, term)
            continue
        assert periods is not None
        required = regular_assessments(periods)
        data = _term(item, term, where, _SCORE_TERM_KEYS)
        regular = data.get("regular")
        if not isinstance(regular, list) or len(regular) != required:
            got = len(regular) if isinstance(regular, list) else "none"
            raise RuleInputError(
                f"{where}.{term}.regular",
                f"{name} has {periods} periods a year, so {required} regular assessments are required, got {got}",
            )
        marks = [_score(v, f"{where}.{term}.regular[{j}]") for j, v in enumerate(regular)]
        for key in ("midterm", "final"):
            if data.get(key) is None:
                raise RuleInputError(f"{where}.{term}.{key}", f"missing {key} score")
        average = tt22.term_average(
            marks,
            _score(data["midterm"], f"{where}.{term}.midterm"),
            _score(data["final"], f"{where}.{term}.final"),
            term=term,
        )
        averages[term] = average.value
        sheet.scored[term][code] = average.value
        sheet.explanations[f"{code}.{term}"] = f"{name}: {average.why}"
        # Decimal → float is exact enough here: a one-decimal value prints back as the same shortest text ("7.8").
        out[term] = float(average.value)
    if not averages:
        sheet.exempted_scored["year"] += 1
        out["year"] = EXEMPT
        sheet.explanations[f"{code}.year"] = f"{name}, cả năm: miễn học cả năm (Miễn)"
    elif len(averages) == 1:
        ((term, value),) = averages.items()
        sheet.scored["year"][code] = value
        _studied_one_term(sheet, code, term, vn(value))
        out["year"] = float(value)
    else:
        year = tt22.year_average(averages["hk1"], averages["hk2"])
        sheet.scored["year"][code] = year.value
        sheet.explanations[f"{code}.year"] = f"{name}: {year.why}"
        out["year"] = float(year.value)
    if "retest" in item:
        if not averages:
            raise RuleInputError(f"{where}.retest", f"{name} is exempt for the whole year: no re-test")
        retest = _score(item["retest"], f"{where}.retest")
        sheet.retest_scored[code] = retest
        out["year_after_retest"] = float(retest)
        sheet.explanations[f"{code}.year_after_retest"] = (
            f"{name}: điểm kiểm tra lại {vn(retest)} thay cho ĐTBmcn (Điều 13)"
        )
    return out


def _comment_subject(item: dict[str, Any], code: str, where: str, sheet: _Tt22Sheet) -> dict[str, Any]:
    name = sheet.names[code]
    exempt = _exempt_terms(item, where)
    periods = item.get("periods_per_year")
    if periods is not None:
        _positive_int(periods, f"{where}.periods_per_year", "must be a positive integer")
    out: dict[str, Any] = {"code": code}
    results: dict[str, str] = {}
    for term in TERMS:
        if term in exempt:
            out[term] = _exempted(sheet, code, term)
            continue
        data = _term(item, term, where, _COMMENT_TERM_KEYS)
        result = _comment_term(data, f"{where}.{term}", name, periods)
        results[term] = out[term] = str(result.value)
        sheet.commented[term][code] = str(result.value)
        sheet.explanations[f"{code}.{term}"] = f"{name}, {TERM_LABEL[term]}: {result.why}"
    if not results:
        out["year"] = EXEMPT
        sheet.explanations[f"{code}.year"] = f"{name}, cả năm: miễn học cả năm (Miễn)"
    elif "hk2" in results:
        out["year"] = sheet.commented["year"][code] = results["hk2"]
        sheet.explanations[f"{code}.year"] = (
            f"{name}, cả năm: {_pass_word(results['hk2'])} theo kết quả học kỳ II (Điều 9)"
        )
    else:
        out["year"] = sheet.commented["year"][code] = results["hk1"]
        _studied_one_term(sheet, code, "hk1", _pass_word(results["hk1"]))
    if "retest" in item:
        if not results:
            raise RuleInputError(f"{where}.retest", f"{name} is exempt for the whole year: no re-test")
        retest = _comment_mark(item["retest"], f"{where}.retest")
        sheet.retest_commented[code] = retest
        out["year_after_retest"] = retest
        sheet.explanations[f"{code}.year_after_retest"] = (
            f"{name}: kiểm tra lại {_pass_word(retest)}, thay cho kết quả cả năm (Điều 13)"
        )
    return out


def _pass_word(result: str) -> str:
    return "Đạt" if result == tt22.PASS else "Chưa đạt"


def _comment_mark(value: Any, where: str) -> str:
    if value not in (tt22.PASS, tt22.FAIL):
        raise RuleInputError(where, f"must be Đ or CĐ, got {value!r}")
    return str(value)


def _comment_term(data: dict[str, Any], where: str, name: str, periods: int | None) -> Explained:
    """A comment subject's term: the teacher's ``result``, or the assessments it follows from, or both (then they
    must agree)."""
    given = _comment_mark(data["result"], f"{where}.result") if "result" in data else None
    listed = any(k in data for k in ("regular", "midterm", "final"))
    if not listed:
        if given is None:
            raise RuleInputError(
                where, "give the term result (Đ/CĐ) or the regular, midterm and final assessments"
            )
        return Explained(given, f"{_pass_word(given)} (kết quả học kỳ do giáo viên ghi)")
    # TT22 art. 6: the same number of regular assessments as a scored subject of the same periods, so the count
    # needs the periods (rules-cli.md, "The whole year").
    if periods is None:
        raise RuleInputError(
            f"{where.rsplit('.', 1)[0]}.periods_per_year",
            f"{name} gives its assessments, so it needs its periods per year (a positive integer)",
        )
    required = regular_assessments(periods)
    regular = data.get("regular")
    if not isinstance(regular, list) or len(regular) != required:
        got = len(regular) if isinstance(regular, list) else "none"
        raise RuleInputError(
            f"{where}.regular",
            f"{name} has {periods} periods a year, so {required} regular assessments are required, got {got}",
        )
    marks = [_comment_mark(v, f"{where}.regular[{j}]") for j, v in enumerate(regular)]
    ends = {}
    for key in ("midterm", "final"):
        if data.get(key) is None:
            raise RuleInputError(f"{where}.{key}", f"missing {key} assessment (Đ/CĐ)")
        ends[key] = _comment_mark(data[key], f"{where}.{key}")
    computed = tt22.comment_term_result(marks, ends["midterm"], ends["final"], required_regular=required)
    if given is not None and given != computed.value:
        raise RuleInputError(
            f"{where}.result",
            f"says {given} but the term's assessments give {computed.value} (TT22 art. 9 §1a)",
        )
    return computed


def _conduct_and_after(
    conduct: Any, grade: int, absences: int, out: dict[str, Any], sheet: _Tt22Sheet
) -> None:
    """Year conduct (art. 8), then what needs it: promotion (art. 12–14) and awards (art. 15)."""
    if not isinstance(conduct, dict):
        raise RuleInputError("conduct", "must be an object with hk1 and hk2")
    _known_keys(conduct, TERMS, "conduct")
    for term in TERMS:
        if conduct.get(term) not in tt22.LEVELS:
            raise RuleInputError(
                f"conduct.{term}", f"must be one of {', '.join(tt22.LEVELS)}, got {conduct.get(term)!r}"
            )
    year = tt22.conduct_year(conduct["hk1"], conduct["hk2"])
    out["conduct"] = {"hk1": conduct["hk1"], "hk2": conduct["hk2"], "year": year.value}
    sheet.explanations["conduct.year"] = year.why
    learning = out["learning_result"]["year"]
    retest = [c for c, v in sheet.scored["year"].items() if v < 5] + [
        c for c, r in sheet.commented["year"].items() if r == tt22.FAIL
    ]
    promoted = tt22.promotion(grade, year.value, learning, absences, retest, sheet.names)
    out["promotion"] = promoted.value
    sheet.explanations["promotion"] = promoted.why
    cutoff = tt22.reporting_cutoff(promoted.value["outcome"])
    out["reporting_cutoff"] = cutoff.value
    sheet.explanations["reporting_cutoff"] = cutoff.why
    prize = tt22.award(year.value, learning, list(sheet.scored["year"].values()))
    out["award"] = prize.value
    sheet.explanations["award"] = prize.why


def _after_the_summer(
    conduct_after: Any, grade: int, absences: int, out: dict[str, Any], sheet: _Tt22Sheet
) -> None:
    """Art. 13–14: with re-test results, or the conduct re-assessed after the summer training, the promotion is
    decided again from the re-evaluated results."""
    if conduct_after is not None and conduct_after not in tt22.LEVELS:
        raise RuleInputError(
            "conduct_after_summer", f"must be one of {', '.join(tt22.LEVELS)}, got {conduct_after!r}"
        )
    if "learning_result_after_retest" not in out and conduct_after is None:
        return
    learning = out.get("learning_result_after_retest", out["learning_result"]["year"])
    conduct = conduct_after or out["conduct"]["year"]
    decided = tt22.promotion_after_summer(grade, conduct, learning, absences)
    out["promotion_after_retest"] = decided.value
    sheet.explanations["promotion_after_retest"] = decided.why


# -- TT27 ----------------------------------------------------------------------------------------------------------

_TT27_SUBJECT_KEYS = ("code", "name", "hk1", "hk2")
_LEVEL_TERM_KEYS = ("level", "test", "midterm_test")


def _test_score(value: Any, where: str) -> int:
    """TT27 art. 7: a periodic test is scored 1–10 without decimals (9.0 is accepted as 9, 7.5 is not)."""
    what = "a periodic test score, an integer 1–10"
    number = _number(value, where, what)
    if number != number.to_integral_value() or not 1 <= number <= 10:
        raise RuleInputError(where, f"must be {what}, got {value!r}")
    return int(number)


def _tt27(payload: dict[str, Any], grade: int) -> dict[str, Any]:
    explanations: dict[str, str] = {}
    names: dict[str, str] = {}
    year_levels: dict[str, str] = {}
    year_tests: dict[str, int] = {}
    out_subjects = []
    for i, item in enumerate(payload["subjects"]):
        where = f"subjects[{i}]"
        _known_keys(item, _TT27_SUBJECT_KEYS, where)
        code = item["code"]
        name = names[code] = _name(item, code, grade, where)
        if tt27.taught_in(code, grade) is False:
            raise RuleInputError(f"{where}.code", f"{name} ({code}) is not taught in grade {grade}")
        levels = {}
        for term in TERMS:
            data = _term(item, term, where, _LEVEL_TERM_KEYS)
            level = data.get("level")
            if level not in tt27.SUBJECT_LEVELS:
                raise RuleInputError(f"{where}.{term}.level", f"must be T, H or C, got {level!r}")
            levels[term] = level
            test = _periodic_test(data, code, name, grade, term, where)
            if test is not None and term == "hk2":
                year_tests[code] = test
        year = tt27.year_level(levels["hk1"], levels["hk2"], name)
        year_levels[code] = year.value
        explanations[f"{code}.year"] = year.why
        out_subjects.append({"code": code, "year": year.value})
    traits = {group: _traits(payload.get(group), group, keys) for group, keys in _TRAIT_GROUPS}
    result = tt27.year_result(year_levels, traits["qualities"], traits["competencies"], year_tests, names)
    explanations["year_result"] = result.why
    prize = tt27.award(result.value)
    explanations["award"] = prize.why
    done = tt27.completion(grade, result.value)
    explanations["completion"] = done.why
    cutoff = tt27.reporting_cutoff(grade, result.value in tt27.COMPLETE_LEVELS)
    explanations["reporting_cutoff"] = cutoff.why
    return {
        "subjects": out_subjects,
        "year_result": result.value,
        "award": prize.value,
        "completion": done.value,
        "reporting_cutoff": cutoff.value,
        "year_tests": year_tests,
        "explanations": explanations,
    }


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


_TRAIT_GROUPS = (("qualities", tt27.QUALITIES), ("competencies", tt27.COMPETENCIES))


def _traits(values: Any, group: str, keys: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(values, dict):
        raise RuleInputError(group, f"must be an object with {', '.join(keys)}")
    _known_keys(values, keys, group)
    for key in keys:
        if values.get(key) not in tt27.QUALITY_LEVELS:
            raise RuleInputError(f"{group}.{key}", f"must be T, Đ or C, got {values.get(key)!r}")
    return values
