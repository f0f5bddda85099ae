"""Invariants of the rules under random inputs (hypothesis): ranges, monotonicity, determinism."""

import copy
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.gradebook.domain import tt22, tt27
from services.gradebook.domain.curriculum import regular_assessments
from services.gradebook.domain.evaluate import evaluate

scores = st.integers(min_value=0, max_value=100).map(lambda n: Decimal(n) / 10)
# What a JSON file holds: integers and one-decimal floats (n / 10 is the float whose shortest text is "n/10").
json_scores = st.one_of(st.integers(0, 10), st.integers(0, 100).map(lambda n: n / 10))
levels = st.sampled_from(tt22.LEVELS)


@st.composite
def tt22_years(draw):
    subjects = []
    for i in range(draw(st.integers(1, 10))):
        periods = draw(st.sampled_from([35, 52, 70, 105, 140]))
        n = regular_assessments(periods)
        terms = {
            term: {
                "regular": draw(st.lists(json_scores, min_size=n, max_size=n)),
                "midterm": draw(json_scores),
                "final": draw(json_scores),
            }
            for term in ("hk1", "hk2")
        }
        subjects.append({"code": f"mon_{i}", "assessment": "score", "periods_per_year": periods, **terms})
    for j in range(draw(st.integers(0, 4))):
        results = {t: {"result": draw(st.sampled_from(["Đ", "CĐ"]))} for t in ("hk1", "hk2")}
        subjects.append({"code": f"nx_{j}", "assessment": "comment", **results})
    return {
        "circular": "tt22",
        "grade": draw(st.integers(6, 12)),
        "subjects": subjects,
        "conduct": {"hk1": draw(levels), "hk2": draw(levels)},
        "absences": draw(st.integers(0, 60)),
    }


# -- the functions ---------------------------------------------------------------------------------------------------


@given(st.lists(scores, min_size=2, max_size=4), scores, scores)
def test_term_average_stays_within_0_10_with_one_decimal(regular, midterm, final):
    value = tt22.term_average(regular, midterm, final).value
    assert Decimal(0) <= value <= Decimal(10)
    assert value == value.quantize(Decimal("0.1"))


@given(st.lists(scores, min_size=2, max_size=4), scores, scores, st.integers(0, 5), st.integers(1, 100))
def test_raising_any_single_score_never_lowers_the_term_average(regular, midterm, final, which, bump):
    base = tt22.term_average(regular, midterm, final).value
    marks = [*regular, midterm, final]
    i = which % len(marks)
    marks[i] = min(Decimal(10), marks[i] + Decimal(bump) / 10)
    raised = tt22.term_average(marks[:-2], marks[-2], marks[-1]).value
    assert raised >= base


@given(scores, scores)
def test_year_average_lies_between_the_term_averages(hk1, hk2):
    value = tt22.year_average(hk1, hk2).value
    assert min(hk1, hk2) <= value <= max(hk1, hk2)
    assert value == value.quantize(Decimal("0.1"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(scores, min_size=1, max_size=12), st.lists(st.sampled_from(["Đ", "CĐ"]), max_size=4), st.data()
)
def test_raising_one_subject_never_lowers_the_learning_result(averages, comments, data):
    scored = {f"s{i}": v for i, v in enumerate(averages)}
    commented = {f"c{i}": r for i, r in enumerate(comments)}
    before = tt22.learning_result(tt22.Period(scored, commented, {})).value
    code = data.draw(st.sampled_from(sorted(scored) + sorted(commented)))
    if code in scored:
        scored = {**scored, code: min(Decimal(10), scored[code] + data.draw(scores))}
    else:
        commented = {**commented, code: "Đ"}
    after = tt22.learning_result(tt22.Period(scored, commented, {})).value
    assert tt22.rank(after) >= tt22.rank(before)


@settings(max_examples=300, deadline=None)
@given(st.lists(scores, min_size=1, max_size=12), st.lists(st.sampled_from(["Đ", "CĐ"]), max_size=4))
def test_the_adjustment_lifts_exactly_one_level_and_never_lowers(averages, comments):
    p = tt22.Period(
        {f"s{i}": v for i, v in enumerate(averages)}, {f"c{i}": r for i, r in enumerate(comments)}, {}
    )
    table, final = tt22.table_level(p), tt22.learning_result(p).value
    assert tt22.rank(final) - tt22.rank(table) == (1 if tt22.adjustment(p) else 0)


@given(levels, levels, levels)
def test_a_better_term_never_lowers_the_year_conduct(hk1, hk2, better):
    if tt22.rank(better) >= tt22.rank(hk2):
        assert tt22.rank(tt22.conduct_year(hk1, better).value) >= tt22.rank(tt22.conduct_year(hk1, hk2).value)
    if tt22.rank(better) >= tt22.rank(hk1):
        assert tt22.rank(tt22.conduct_year(better, hk2).value) >= tt22.rank(tt22.conduct_year(hk1, hk2).value)


# -- evaluate, from JSON-shaped input ----------------------------------------------------------------------------


@settings(deadline=None)
@given(tt22_years())
def test_every_average_out_of_evaluate_is_0_10_with_one_decimal(payload):
    out = evaluate(payload)
    for row in out["subjects"]:
        for period in ("hk1", "hk2", "year"):
            value = row[period]
            if isinstance(value, str):
                assert value in ("Đ", "CĐ")
            else:
                exact = Decimal(str(value))
                assert 0 <= exact <= 10 and exact == exact.quantize(Decimal("0.1"))
    assert set(out["learning_result"].values()) <= set(tt22.LEVELS)


@settings(deadline=None)
@given(tt22_years())
def test_evaluate_is_deterministic_and_leaves_its_input_alone(payload):
    before = copy.deepcopy(payload)
    first = evaluate(payload, explain=True)
    assert payload == before
    assert evaluate(copy.deepcopy(payload), explain=True) == first
    shuffled = {**payload, "subjects": list(reversed(payload["subjects"]))}
    again = evaluate(shuffled)
    assert sorted(again["subjects"], key=lambda r: r["code"]) == sorted(
        first["subjects"], key=lambda r: r["code"]
    )
    assert again["learning_result"] == first["learning_result"]
    assert again["promotion"]["outcome"] == first["promotion"]["outcome"]


@settings(deadline=None, max_examples=200)
@given(tt22_years(), st.data())
def test_raising_one_score_in_the_input_never_lowers_an_average_or_a_learning_result(payload, data):
    scored = [i for i, s in enumerate(payload["subjects"]) if s["assessment"] == "score"]
    i = data.draw(st.sampled_from(scored))
    term = data.draw(st.sampled_from(["hk1", "hk2"]))
    key = data.draw(st.sampled_from(["regular", "midterm", "final"]))
    raised = copy.deepcopy(payload)
    marks = raised["subjects"][i][term]
    bump = data.draw(st.integers(1, 100))
    if key == "regular":
        j = data.draw(st.integers(0, len(marks["regular"]) - 1))
        marks["regular"][j] = min(100, round(marks["regular"][j] * 10) + bump) / 10
    else:
        marks[key] = min(100, round(marks[key] * 10) + bump) / 10
    before, after = evaluate(payload), evaluate(raised)
    for period in ("hk1", "hk2", "year"):
        assert after["subjects"][i][period] >= before["subjects"][i][period]
        assert tt22.rank(after["learning_result"][period]) >= tt22.rank(before["learning_result"][period])


@st.composite
def tt27_years(draw):
    def level():
        return draw(st.sampled_from(list(tt27.SUBJECT_LEVELS)))

    subjects = [
        {
            "code": c,
            "hk1": {"level": level(), "test": draw(st.integers(1, 10))},
            "hk2": {"level": level(), "test": draw(st.integers(1, 10))},
        }
        for c in ("tieng_viet", "toan", "khoa_hoc")
    ] + [{"code": c, "hk1": {"level": level()}, "hk2": {"level": level()}} for c in ("dao_duc", "gdtc")]
    traits = st.sampled_from(list(tt27.QUALITY_LEVELS))
    return {
        "circular": "tt27",
        "grade": 5,
        "subjects": subjects,
        "qualities": {k: draw(traits) for k in tt27.QUALITIES},
        "competencies": {k: draw(traits) for k in tt27.COMPETENCIES},
    }


_BETTER_LEVEL = {"C": "H", "H": "T", "T": "T"}
_BETTER_TRAIT = {"C": "Đ", "Đ": "T", "T": "T"}


@settings(deadline=None)
@given(tt27_years(), st.data())
def test_a_better_level_trait_or_test_never_lowers_the_primary_year_result(payload, data):
    better = copy.deepcopy(payload)
    what = data.draw(st.sampled_from(["level", "test", "trait"]))
    if what == "trait":
        group = data.draw(st.sampled_from(["qualities", "competencies"]))
        key = data.draw(st.sampled_from(sorted(better[group])))
        better[group][key] = _BETTER_TRAIT[better[group][key]]
    else:
        row = better["subjects"][data.draw(st.integers(0, 2))]["hk2"]
        if what == "test":
            row["test"] = min(10, row["test"] + data.draw(st.integers(1, 9)))
        else:
            row["level"] = _BETTER_LEVEL[row["level"]]
    before, after = evaluate(payload), evaluate(better)
    assert tt27.RESULTS.index(after["year_result"]) >= tt27.RESULTS.index(before["year_result"])
    assert evaluate(copy.deepcopy(payload), explain=True) == evaluate(payload, explain=True)
