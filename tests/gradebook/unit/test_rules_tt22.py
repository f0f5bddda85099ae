"""TT22: every worked example of ../shared/domain reproduced exactly, and the tables around them."""

from decimal import Decimal

import pytest

from services.gradebook.domain import tt22
from services.gradebook.domain.evaluate import evaluate
from services.gradebook.domain.rounding import dec


def d(*values):
    return [Decimal(str(v)) for v in values]


def test_worked_example_toan_term_and_year_averages():
    hk1 = tt22.term_average(d(6, 7, 8, 7.5), dec(6.5), dec(7))
    hk2 = tt22.term_average(d(8, 8, 9, 7), dec(7.5), dec(8.5))
    assert (hk1.value, hk2.value) == (Decimal("6.9"), Decimal("8.1"))
    assert tt22.year_average(hk1.value, hk2.value).value == Decimal("7.7")
    assert "62,5 / 9" in hk1.why and "→ 6,9" in hk1.why


def test_worked_example_cong_nghe_three_regular_assessments():
    assert tt22.term_average(d(7, 8, 8), dec(7), dec(7.5)).value == Decimal("7.4")


def test_half_up_in_decimal_where_floats_round_down():
    # rules.md: (7 + 7 + 6.6 + 2·7 + 3·7) / 8 = 55.6 / 8 = 6.95 → 7.0
    assert tt22.term_average(d(7, 7, 6.6), dec(7), dec(7)).value == Decimal("7.0")
    # (0.1 + 0.1 + 0 + 2·0.5 + 3·0) / 8 = 1.2 / 8 = 0.15 → 0.2; binary floats give 0.1
    assert round(1.2 / 8, 1) == 0.1
    assert tt22.term_average(d(0.1, 0.1, 0), dec(0.5), dec(0)).value == Decimal("0.2")


def test_cli_contract_example():
    payload = {
        "circular": "tt22",
        "grade": 8,
        "subjects": [
            {
                "code": "toan",
                "name": "Toán",
                "assessment": "score",
                "periods_per_year": 140,
                "hk1": {"regular": [8, 7.5, 9, 6], "midterm": 7, "final": 8.5},
                "hk2": {"regular": [9, 8, 8, 7], "midterm": 8, "final": 9},
            },
            {
                "code": "gdtc",
                "name": "Giáo dục thể chất",
                "assessment": "comment",
                "hk1": {"result": "Đ"},
                "hk2": {"result": "Đ"},
            },
        ],
        "conduct": {"hk1": "Tốt", "hk2": "Tốt"},
    }
    out = evaluate(payload)
    assert out["subjects"] == [
        {"code": "toan", "hk1": 7.8, "hk2": 8.3, "year": 8.1},
        {"code": "gdtc", "hk1": "Đ", "hk2": "Đ", "year": "Đ"},
    ]
    assert out["learning_result"] == {"hk1": "Chưa đạt", "hk2": "Chưa đạt", "year": "Chưa đạt"}
    assert "explanations" not in out and "explanations" in evaluate(payload, explain=True)


def period(scored, commented=None):
    scored = {f"s{i}": Decimal(str(v)) for i, v in enumerate(scored)}
    return tt22.Period(scored, commented or {}, {"s0": "Toán"})


@pytest.mark.parametrize(
    ("scored", "commented", "level"),
    [
        ([8, 8, 8, 8, 8, 8, 6.5, 6.5], {"c": "Đ"}, "Tốt"),
        ([8, 8, 8, 8, 8, 7.9, 6.5, 6.5], {"c": "Đ"}, "Khá"),  # only 5 at 8.0
        ([8, 8, 8, 8, 8, 8, 6.4, 6.5], {"c": "Đ"}, "Khá"),  # one below 6.5
        ([6.5] * 6 + [5, 5], {"c": "Đ"}, "Khá"),
        ([6.5] * 5 + [6.4, 5, 5], {"c": "Đ"}, "Đạt"),
        ([5] * 6 + [3.5, 3.5], {"c": "CĐ"}, "Đạt"),
        ([5] * 6 + [3.4, 3.5], {}, "Chưa đạt"),
        ([5] * 5 + [4.9, 9, 9], {}, "Đạt"),  # 7 at ≥ 5.0
        ([5] * 5 + [4.9, 4.9, 4.9], {}, "Chưa đạt"),  # only 5 at ≥ 5.0
        ([9] * 8, {"c": "CĐ", "d": "CĐ"}, "Chưa đạt"),
    ],
)
def test_learning_result_table(scored, commented, level):
    p = tt22.Period({f"s{i}": Decimal(str(v)) for i, v in enumerate(scored)}, commented, {})
    assert tt22._level(p.scored, p.commented) == level


@pytest.mark.parametrize(
    ("scored", "commented", "adjusted", "subject"),
    [
        ([4.2, 9, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Khá", "s0"),  # would-be Tốt, computed Đạt → Khá
        ([3.0, 9, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Đạt", "s0"),  # would-be Tốt, computed Chưa đạt → Đạt
        ([3.0, 7, 7, 7, 7, 7, 7, 7], {"c": "Đ"}, "Đạt", "s0"),  # would-be Khá, computed Chưa đạt → Đạt
        ([9, 9, 9, 9, 9, 9, 9, 9], {"c": "CĐ"}, "Khá", "c"),  # a comment subject alone: Tốt → Đạt → Khá
        ([4.2, 4.2, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Đạt", None),  # two weak subjects: no adjustment
        ([4.2, 7, 7, 7, 7, 7, 7, 7], {"c": "Đ"}, "Đạt", None),  # would-be Khá, computed Đạt: one level only
    ],
)
def test_adjustment_of_article_9_clause_3(scored, commented, adjusted, subject):
    p = tt22.Period({f"s{i}": Decimal(str(v)) for i, v in enumerate(scored)}, commented, {"s0": "Toán"})
    result = tt22.learning_result(p)
    assert result.value == adjusted
    assert tt22.adjustment_subject(p) == subject
    if subject is not None:
        assert "khoản 3 Điều 9" in result.why


CONDUCT = {  # (hk1, hk2) → year, the table of art. 8
    **{(h1, "Tốt"): y for h1, y in (("Tốt", "Tốt"), ("Khá", "Tốt"), ("Đạt", "Khá"), ("Chưa đạt", "Khá"))},
    **{(h1, "Khá"): y for h1, y in (("Tốt", "Khá"), ("Khá", "Khá"), ("Đạt", "Khá"), ("Chưa đạt", "Đạt"))},
    **{(h1, "Đạt"): y for h1, y in (("Tốt", "Khá"), ("Khá", "Đạt"), ("Đạt", "Đạt"), ("Chưa đạt", "Đạt"))},
    **{(h1, "Chưa đạt"): "Chưa đạt" for h1 in ("Tốt", "Khá", "Đạt", "Chưa đạt")},
}


@pytest.mark.parametrize(("terms", "year"), list(CONDUCT.items()))
def test_conduct_year_all_sixteen_combinations(terms, year):
    assert tt22.conduct_year(*terms).value == year


@pytest.mark.parametrize(
    ("grade", "conduct", "learning", "absences", "outcome"),
    [
        (8, "Tốt", "Khá", 3, "lên lớp"),
        (9, "Đạt", "Đạt", 45, "hoàn thành chương trình"),
        (8, "Tốt", "Tốt", 46, "ở lại lớp"),
        (8, "Khá", "Chưa đạt", 0, "kiểm tra lại"),
        (8, "Chưa đạt", "Khá", 0, "rèn luyện trong kì nghỉ hè"),
        (8, "Chưa đạt", "Chưa đạt", 0, "kiểm tra lại và rèn luyện trong kì nghỉ hè"),
    ],
)
def test_promotion_outcomes(grade, conduct, learning, absences, outcome):
    assert tt22.promotion(grade, conduct, learning, absences, ["toan"]).value["outcome"] == outcome


def test_awards():
    assert tt22.award("Tốt", "Tốt", d(9, 9, 9, 9, 9, 9, 8)).value == "Học sinh Xuất sắc"
    assert tt22.award("Tốt", "Tốt", d(9, 9, 9, 9, 9, 8.9, 8)).value == "Học sinh Giỏi"
    assert tt22.award("Khá", "Tốt", d(9, 9, 9, 9, 9, 9)).value is None


def test_comment_subject_term_result_from_its_assessments():
    assert tt22.comment_term_result(["Đ", "Đ", "CĐ", "Đ", "Đ"], "Đ").value == "Đ"  # 4/5 ≥ 2/3
    assert tt22.comment_term_result(["Đ", "CĐ", "CĐ", "Đ", "Đ"], "Đ").value == "CĐ"  # 3/5 < 2/3
    assert tt22.comment_term_result(["Đ", "Đ", "Đ", "Đ", "CĐ"], "CĐ").value == "CĐ"  # end of term not Đ
