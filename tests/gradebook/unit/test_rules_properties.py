"""Invariants of the TT22 rules under random inputs (hypothesis)."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.gradebook.domain import tt22

scores = st.integers(min_value=0, max_value=100).map(lambda n: Decimal(n) / 10)


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
    assert min(hk1, hk2) - Decimal("0.05") <= value <= max(hk1, hk2) + Decimal("0.05")


@settings(max_examples=300)
@given(
    st.lists(scores, min_size=6, max_size=12), st.lists(st.sampled_from(["Đ", "CĐ"]), max_size=4), st.data()
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
    assert tt22.rank(str(after)) >= tt22.rank(str(before))


@given(st.sampled_from(tt22.LEVELS), st.sampled_from(tt22.LEVELS), st.sampled_from(tt22.LEVELS))
def test_a_better_second_term_never_lowers_the_year_conduct(hk1, hk2, better):
    if tt22.rank(better) >= tt22.rank(hk2):
        assert tt22.rank(str(tt22.conduct_year(hk1, better).value)) >= tt22.rank(
            str(tt22.conduct_year(hk1, hk2).value)
        )
