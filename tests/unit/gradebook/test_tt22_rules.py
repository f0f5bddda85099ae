"""TT22: every worked example of ../shared/domain reproduced exactly, and the tables around them."""

from decimal import Decimal

import pytest

from services.gradebook.domain import tt22
from services.gradebook.domain.curriculum import regular_assessments
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.evaluate import evaluate
from services.gradebook.domain.rounding import dec, round1
from tests.unit.gradebook.contract_examples import TT22_CLI_EXAMPLE

SCORED = {  # a grade 8 timetable: code → periods per year
    "ngu_van": 140,
    "toan": 140,
    "ngoai_ngu_1": 105,
    "gdcd": 35,
    "lich_su_dia_li": 105,
    "khtn": 140,
    "cong_nghe": 52,
    "tin_hoc": 35,
}
COMMENTED = ("gdtc", "nghe_thuat", "hdtn", "gddp")


def d(*values):
    return [Decimal(str(v)) for v in values]


def flat_term(score, periods):
    """A term whose every assessment is ``score``: its average is ``score`` exactly."""
    return {"regular": [score] * regular_assessments(periods), "midterm": score, "final": score}


def student(scores=None, comments=None, conduct=("Tốt", "Tốt"), absences=0, grade=8, hk2_scores=None):
    """A grade-8 year: every scored subject 9 unless ``scores`` says otherwise, every comment subject Đ."""
    scores, comments, hk2_scores = scores or {}, comments or {}, hk2_scores or {}
    subjects = [
        {
            "code": code,
            "assessment": "score",
            "periods_per_year": periods,
            "hk1": flat_term(scores.get(code, 9), periods),
            "hk2": flat_term(hk2_scores.get(code, scores.get(code, 9)), periods),
        }
        for code, periods in SCORED.items()
    ] + [
        {"code": code, "assessment": "comment", "hk1": {"result": r}, "hk2": {"result": r}}
        for code in COMMENTED
        for r in [comments.get(code, "Đ")]
    ]
    payload = {"circular": "tt22", "grade": grade, "subjects": subjects, "absences": absences}
    if conduct:
        payload["conduct"] = {"hk1": conduct[0], "hk2": conduct[1]}
    return payload


# -- worked examples (rules.md, rules-cli.md) ----------------------------------------------------------------------


def test_worked_example_toan_term_and_year_averages():
    hk1 = tt22.term_average(d(6, 7, 8, 7.5), dec(6.5), dec(7), term="hk1")
    hk2 = tt22.term_average(d(8, 8, 9, 7), dec(7.5), dec(8.5), term="hk2")
    year = tt22.year_average(hk1.value, hk2.value)
    assert (hk1.value, hk2.value, year.value) == (Decimal("6.9"), Decimal("8.1"), Decimal("7.7"))
    assert (
        hk1.why == "ĐTBmhk I = (6 + 7 + 8 + 7,5 + 2·6,5 + 3·7) / 9 = 62,5 / 9 = 6,944… → 6,9 (Điều 9 khoản 1)"
    )
    assert (
        hk2.why
        == "ĐTBmhk II = (8 + 8 + 9 + 7 + 2·7,5 + 3·8,5) / 9 = 72,5 / 9 = 8,055… → 8,1 (Điều 9 khoản 1)"
    )
    assert year.why == "ĐTBmcn = (6,9 + 2·8,1) / 3 = 23,1 / 3 = 7,7 → 7,7 (Điều 9 khoản 1)"


def test_worked_example_cong_nghe_three_regular_assessments():
    assert regular_assessments(52) == 3
    result = tt22.term_average(d(7, 8, 8), dec(7), dec(7.5))
    assert result.value == Decimal("7.4")
    assert "59,5 / 8 = 7,437… → 7,4" in result.why


def test_half_up_in_decimal_where_floats_round_down():
    # rules.md: (7 + 7 + 6.6 + 2·7 + 3·7) / 8 = 55.6 / 8 = 6.95 → 7.0, and the tie is shown as it is.
    tie = tt22.term_average(d(7, 7, 6.6), dec(7), dec(7))
    assert tie.value == Decimal("7.0") and "55,6 / 8 = 6,95 → 7,0" in tie.why
    assert round1(dec(55.6) / 8) == Decimal("7.0")
    # (0.1 + 0.1 + 0 + 2·0.5 + 3·0) / 8 = 1.2 / 8 = 0.15 → 0.2, where binary floats give 0.1.
    assert round(1.2 / 8, 1) == 0.1
    assert tt22.term_average(d(0.1, 0.1, 0), dec(0.5), dec(0)).value == Decimal("0.2")


def test_json_floats_enter_as_their_decimal_text():
    assert dec(6.95) == Decimal("6.95") != Decimal(6.95)


CLI_EXAMPLE = TT22_CLI_EXAMPLE


def test_cli_contract_example():
    out = evaluate(CLI_EXAMPLE)
    assert out["subjects"] == [
        {"code": "toan", "hk1": 7.8, "hk2": 8.3, "year": 8.1},
        {"code": "gdtc", "hk1": "Đ", "hk2": "Đ", "year": "Đ"},
    ]
    assert out["learning_result"] == {"hk1": "Chưa đạt", "hk2": "Chưa đạt", "year": "Chưa đạt"}
    assert "explanations" not in out
    why = evaluate(CLI_EXAMPLE, explain=True)["explanations"]
    assert why["toan.year"] == "Toán: ĐTBmcn = (7,8 + 2·8,3) / 3 = 24,4 / 3 = 8,133… → 8,1 (Điều 9 khoản 1)"
    assert "chỉ 1 môn từ 5,0 trở lên (cần ít nhất 6)" in why["learning_result.year"]


# -- learning result (art. 9 §2): each boundary of the table -----------------------------------------------------


@pytest.mark.parametrize(
    ("scored", "commented", "level"),
    [
        # Tốt: every comment Đ, every score ≥ 6.5, at least 6 at ≥ 8.0
        ([8, 8, 8, 8, 8, 8, 6.5, 6.5], {"c": "Đ"}, "Tốt"),
        ([8, 8, 8, 8, 8, 8], {}, "Tốt"),  # exactly six subjects
        ([8, 8, 8, 8, 8, 7.9, 6.5, 6.5], {"c": "Đ"}, "Khá"),  # only 5 at 8.0
        ([8, 8, 8, 8, 8, 8, 6.4, 6.5], {"c": "Đ"}, "Khá"),  # one below 6.5
        ([9] * 8, {"c": "CĐ"}, "Đạt"),  # a comment subject Chưa đạt (the table alone; §3 is tested below)
        # Khá: every comment Đ, every score ≥ 5.0, at least 6 at ≥ 6.5
        ([6.5] * 6 + [5, 5], {"c": "Đ"}, "Khá"),
        ([6.5] * 5 + [6.4, 5, 5], {"c": "Đ"}, "Đạt"),  # only 5 at 6.5
        ([6.5] * 7 + [4.9], {"c": "Đ"}, "Đạt"),  # one below 5.0
        # Đạt: at most one comment CĐ, at least 6 at ≥ 5.0, none below 3.5
        ([5] * 6 + [3.5, 3.5], {"c": "CĐ"}, "Đạt"),
        ([5] * 6 + [3.4, 3.5], {}, "Chưa đạt"),  # one below 3.5
        ([5] * 5 + [4.9, 9, 9], {}, "Đạt"),  # 7 at ≥ 5.0
        ([5] * 5 + [4.9, 4.9, 4.9], {}, "Chưa đạt"),  # only 5 at ≥ 5.0
        ([9] * 8, {"c": "CĐ", "d": "CĐ"}, "Chưa đạt"),  # two comment subjects Chưa đạt
        ([9] * 5, {}, "Chưa đạt"),  # fewer than six scored subjects cannot reach Đạt
    ],
)
def test_learning_result_table(scored, commented, level):
    p = tt22.Period({f"s{i}": Decimal(str(v)) for i, v in enumerate(scored)}, commented, {})
    assert tt22.table_level(p) == level


def test_learning_result_explains_why_not_the_next_level():
    p = tt22.Period(
        {f"s{i}": Decimal(v) for i, v in enumerate(["8", "8", "8", "8", "8", "7.9", "7", "7"])}, {}, {}
    )
    why = tt22.learning_result(p).why
    assert why.startswith("Khá vì 8 môn tính điểm: 5 môn ≥ 8,0")
    assert "chưa đạt mức Tốt vì chỉ 5 môn từ 8,0 trở lên (cần ít nhất 6)" in why and "(khoản 2 Điều 9)" in why


# -- the art. 9 §3 adjustment ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scored", "commented", "adjusted", "subject"),
    [
        ([4.2, 9, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Khá", "s0"),  # rules.md: would-be Tốt, table Đạt → Khá
        ([3.0, 9, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Đạt", "s0"),  # would-be Tốt, table Chưa đạt → Đạt
        ([3.0, 7, 7, 7, 7, 7, 7, 7], {"c": "Đ"}, "Đạt", "s0"),  # would-be Khá, table Chưa đạt → Đạt
        ([9, 9, 9, 9, 9, 9, 9, 9], {"c": "CĐ"}, "Khá", "c"),  # a comment subject alone: Tốt → Đạt → Khá
        ([4.2, 4.2, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Đạt", None),  # rules.md: two weak subjects, no adjustment
        ([4.2, 9, 9, 9, 9, 9, 9, 9], {"c": "CĐ"}, "Đạt", None),  # one weak score and one comment CĐ: two
        ([4.2, 7, 7, 7, 7, 7, 7, 7], {"c": "Đ"}, "Đạt", None),  # would-be Khá, table Đạt: one level only
        ([6, 9, 9, 9, 9, 9, 9, 9], {"c": "Đ"}, "Khá", None),  # would-be Tốt, table Khá: one level only
        ([3.0, 5, 5, 5, 5, 5, 5, 5], {}, "Chưa đạt", None),  # would-be Đạt: the rule only lifts Tốt or Khá
    ],
)
def test_adjustment_of_article_9_clause_3(scored, commented, adjusted, subject):
    p = tt22.Period({f"s{i}": Decimal(str(v)) for i, v in enumerate(scored)}, commented, {"s0": "Toán"})
    result = tt22.learning_result(p)
    assert result.value == adjusted
    assert tt22.adjustment_subject(p) == subject
    assert ("khoản 3 Điều 9" in result.why) == (subject is not None)


def test_adjustment_is_recorded_with_its_subject_and_explained():
    out = evaluate(student(scores={"toan": 4.2}), explain=True)
    assert out["learning_result"] == {"hk1": "Khá", "hk2": "Khá", "year": "Khá"}
    record = {"subject": "toan", "would_be": "Tốt", "computed": "Đạt", "adjusted": "Khá"}
    assert out["adjustment"] == {"hk1": record, "hk2": record, "year": record}
    why = out["explanations"]["learning_result.year"]
    assert why.startswith("Khá vì theo bảng chỉ Đạt (")
    assert why.endswith(
        "được nâng từ Đạt lên Khá theo khoản 3 Điều 9 (chỉ riêng môn Toán 4,2 làm tụt hai mức, từ Tốt xuống Đạt)"
    )


def test_adjustment_by_a_comment_only_subject():
    out = evaluate(student(comments={"gdtc": "CĐ"}), explain=True)
    assert out["learning_result"]["year"] == "Khá"
    assert out["adjustment"]["year"]["subject"] == "gdtc"
    assert (
        "chỉ riêng môn Giáo dục thể chất Chưa đạt làm tụt hai mức"
        in out["explanations"]["learning_result.year"]
    )


def test_two_weak_subjects_get_no_adjustment():
    out = evaluate(student(scores={"toan": 4.2, "ngu_van": 4.2}))
    assert out["learning_result"]["year"] == "Đạt" and "adjustment" not in out


def test_each_period_is_adjusted_on_its_own():
    out = evaluate(student(scores={"toan": 4.2}, hk2_scores={"toan": 9}))
    # Toán: HK I 4.2, HK II 9 → year (4.2 + 18) / 3 = 7.4
    assert out["subjects"][1] == {"code": "toan", "hk1": 4.2, "hk2": 9.0, "year": 7.4}
    assert out["learning_result"] == {"hk1": "Khá", "hk2": "Tốt", "year": "Tốt"}
    assert set(out["adjustment"]) == {"hk1"}


# -- comment-only subjects ---------------------------------------------------------------------------------------


def test_comment_subject_term_is_dat_only_with_every_assessment_there_and_dat():
    """TT22 art. 9 §1a: every required assessment present and every one Đạt. Cases that the older 2/3 rule (Circular
    58/26) passed are Chưa đạt here, and the reason names the assessment."""
    assert tt22.comment_term_result(["Đ", "Đ", "Đ"], "Đ", "Đ", required_regular=3).value == "Đ"
    four_of_five = tt22.comment_term_result(["Đ", "CĐ", "Đ"], "Đ", "Đ", required_regular=3)
    assert four_of_five.value == "CĐ"  # 4/5 Đ and the end of term Đ: Đạt under 58/26, not under TT22
    assert "ĐGtx lần 2 Chưa đạt" in four_of_five.why and "Điều 9 khoản 1 điểm a" in four_of_five.why
    mid = tt22.comment_term_result(["Đ", "Đ", "Đ", "Đ"], "CĐ", "Đ", required_regular=4)
    assert mid.value == "CĐ" and "giữa kỳ Chưa đạt" in mid.why
    end = tt22.comment_term_result(["Đ", "Đ"], "Đ", "CĐ", required_regular=2)
    assert end.value == "CĐ" and "cuối kỳ Chưa đạt" in end.why
    short = tt22.comment_term_result(["Đ", "Đ"], "Đ", "Đ", required_regular=3)
    assert short.value == "CĐ" and "thiếu 1 lần ĐGtx" in short.why  # "có đủ số lần": a missing one fails
    missing = tt22.comment_term_result(["Đ", "Đ", "Đ"], "Đ", None, required_regular=3)
    assert missing.value == "CĐ" and "thiếu đánh giá cuối kỳ" in missing.why


def test_comment_subject_given_as_assessments_and_its_year_is_term_two():
    payload = student()
    gdtc = payload["subjects"][8]
    gdtc["periods_per_year"] = 70  # → 3 regular assessments
    gdtc["hk1"] = {"regular": ["Đ", "CĐ", "Đ"], "midterm": "Đ", "final": "Đ"}  # one CĐ → CĐ
    gdtc["hk2"] = {"regular": ["Đ", "Đ", "Đ"], "midterm": "Đ", "final": "Đ", "result": "Đ"}  # all Đ → Đ
    out = evaluate(payload, explain=True)
    assert out["subjects"][8] == {"code": "gdtc", "hk1": "CĐ", "hk2": "Đ", "year": "Đ"}
    assert out["explanations"]["gdtc.hk1"] == (
        "Giáo dục thể chất, học kỳ I: Chưa đạt: ĐGtx lần 2 Chưa đạt "
        "(cần đủ và tất cả Đạt, Điều 9 khoản 1 điểm a)"
    )


def test_comment_assessments_need_the_subject_s_periods():
    payload = student()
    payload["subjects"][8].pop("periods_per_year", None)
    payload["subjects"][8]["hk1"] = {"regular": ["Đ", "Đ", "Đ"], "midterm": "Đ", "final": "Đ"}
    with pytest.raises(RuleInputError) as error:
        evaluate(payload)
    assert error.value.field == "subjects[8].periods_per_year"


@pytest.mark.parametrize(
    ("term", "field"),
    [
        ({"regular": ["Đ", "Đ"], "midterm": "Đ", "final": "Đ"}, "subjects[8].hk1.regular"),  # 70 periods → 3
        ({"regular": ["Đ", "Đ", "Đ"], "midterm": "Đ"}, "subjects[8].hk1.final"),
        ({"regular": ["Đ", "Đ", "Tốt"], "midterm": "Đ", "final": "Đ"}, "subjects[8].hk1.regular[2]"),
        (
            {"regular": ["Đ", "CĐ", "Đ"], "midterm": "Đ", "final": "Đ", "result": "Đ"},
            "subjects[8].hk1.result",
        ),
        ({}, "subjects[8].hk1"),
    ],
)
def test_invalid_comment_assessments_name_the_field(term, field):
    payload = student()
    payload["subjects"][8].update(periods_per_year=70, hk1=term)
    with pytest.raises(RuleInputError) as error:
        evaluate(payload)
    assert error.value.field == field


def test_the_programme_knows_each_subjects_kind():
    payload = student()
    del payload["subjects"][1]["assessment"], payload["subjects"][8]["assessment"]
    assert evaluate(payload) == evaluate(student())  # inferred from the codes
    payload["subjects"][1]["assessment"] = "comment"
    with pytest.raises(RuleInputError, match=r"subjects\[1\]\.assessment: toan is assessed by score"):
        evaluate(payload)


# -- conduct (art. 8) --------------------------------------------------------------------------------------------

CONDUCT = {  # (hk1, hk2) → year, the table of art. 8
    **{(h1, "Tốt"): y for h1, y in (("Tốt", "Tốt"), ("Khá", "Tốt"), ("Đạt", "Khá"), ("Chưa đạt", "Khá"))},
    **{(h1, "Khá"): y for h1, y in (("Tốt", "Khá"), ("Khá", "Khá"), ("Đạt", "Khá"), ("Chưa đạt", "Đạt"))},
    **{(h1, "Đạt"): y for h1, y in (("Tốt", "Khá"), ("Khá", "Đạt"), ("Đạt", "Đạt"), ("Chưa đạt", "Đạt"))},
    **{(h1, "Chưa đạt"): "Chưa đạt" for h1 in ("Tốt", "Khá", "Đạt", "Chưa đạt")},
}


def test_the_conduct_table_has_sixteen_rows():
    assert len(CONDUCT) == 16


@pytest.mark.parametrize(("terms", "year"), list(CONDUCT.items()))
def test_conduct_year_all_sixteen_combinations(terms, year):
    result = tt22.conduct_year(*terms)
    assert result.value == year
    assert result.why == f"Học kỳ I {terms[0]}, học kỳ II {terms[1]} → cả năm {year} (Điều 8)"


# -- promotion (art. 12–14) and awards (art. 15) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "conduct", "learning", "absences", "outcome", "retest"),
    [
        (8, "Tốt", "Khá", 3, "lên lớp", []),
        (8, "Đạt", "Đạt", 45, "lên lớp", []),  # 45 sessions is still allowed
        (9, "Đạt", "Đạt", 0, "hoàn thành chương trình", []),
        (12, "Tốt", "Tốt", 0, "hoàn thành chương trình", []),
        (8, "Tốt", "Tốt", 46, "ở lại lớp", []),  # more than 45 sessions, whatever else
        (8, "Khá", "Chưa đạt", 0, "kiểm tra lại", ["toan"]),
        (8, "Chưa đạt", "Khá", 0, "rèn luyện trong kì nghỉ hè", []),
        (8, "Chưa đạt", "Chưa đạt", 0, "kiểm tra lại và rèn luyện trong kì nghỉ hè", ["toan"]),
    ],
)
def test_promotion_outcomes(grade, conduct, learning, absences, outcome, retest):
    result = tt22.promotion(grade, conduct, learning, absences, ["toan"], {"toan": "Toán"})
    assert result.value == {"outcome": outcome, "retest_subjects": retest}


def test_retest_lists_the_scored_subjects_under_5_and_the_comment_subjects_chua_dat():
    payload = student(scores={"toan": 3.0, "ngu_van": 3.4, "gdcd": 5.0}, comments={"hdtn": "CĐ"})
    out = evaluate(payload, explain=True)
    assert out["learning_result"]["year"] == "Chưa đạt"
    assert out["promotion"] == {"outcome": "kiểm tra lại", "retest_subjects": ["ngu_van", "toan", "hdtn"]}
    assert "các môn: Ngữ văn, Toán, Hoạt động trải nghiệm, hướng nghiệp" in out["explanations"]["promotion"]


def test_promotion_through_evaluate_reads_conduct_and_absences():
    assert evaluate(student(absences=46))["promotion"]["outcome"] == "ở lại lớp"
    assert (
        evaluate(student(conduct=("Tốt", "Chưa đạt")))["promotion"]["outcome"] == "rèn luyện trong kì nghỉ hè"
    )
    assert "promotion" not in evaluate(student(conduct=None))  # conduct is optional, promotion needs it


def test_awards():
    assert tt22.award("Tốt", "Tốt", d(9, 9, 9, 9, 9, 9, 8)).value == "Học sinh Xuất sắc"
    assert tt22.award("Tốt", "Tốt", d(9, 9, 9, 9, 9, 8.9, 8)).value == "Học sinh Giỏi"
    assert tt22.award("Khá", "Tốt", d(9, 9, 9, 9, 9, 9)).value is None
    assert tt22.award("Tốt", "Khá", d(9, 9, 9, 9, 9, 9)).value is None
    assert evaluate(student())["award"] == "Học sinh Xuất sắc"
    assert evaluate(student(scores={c: 8.5 for c in SCORED}))["award"] == "Học sinh Giỏi"
