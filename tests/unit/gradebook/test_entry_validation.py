"""What a teacher may enter: scores, comment results and primary levels, checked per circular."""

from datetime import date

import pytest

from services.gradebook.domain.curriculum import regular_assessments, subject
from services.gradebook.domain.identity import personal_id_problem
from services.gradebook.domain.marks import MarkInvalid, score, validate_entry, validate_homeroom


@pytest.mark.parametrize(("periods", "count"), [(35, 2), (36, 3), (52, 3), (70, 3), (71, 4), (140, 4)])
def test_regular_assessments_follow_periods_per_year(periods, count):
    assert regular_assessments(periods) == count


@pytest.mark.parametrize(("raw", "text"), [(7, "7"), (7.5, "7.5"), ("8.0", "8"), ("0", "0"), (10, "10")])
def test_scores_keep_their_decimal_text(raw, text):
    assert score(raw, "x") == text


@pytest.mark.parametrize("raw", [-1, 10.1, "7.25", "abc", "NaN", "Infinity"])
def test_bad_scores_are_refused_with_the_field(raw):
    with pytest.raises(MarkInvalid) as error:
        score(raw, "entries[0].final")
    assert error.value.field == "entries[0].final"


def test_a_scored_subject_takes_regular_midterm_final_and_nothing_else():
    toan = subject("toan", 8)
    entry = validate_entry(toan, 140, {"regular": [8, 7.5, 9, 6], "midterm": 7, "final": 8.5}, "e")
    assert entry.as_dict() == {"regular": ["8", "7.5", "9", "6"], "midterm": "7", "final": "8.5"}
    with pytest.raises(MarkInvalid, match="4 điểm"):
        validate_entry(toan, 140, {"regular": [1, 2, 3, 4, 5]}, "e")
    with pytest.raises(MarkInvalid, match="không dùng"):
        validate_entry(toan, 140, {"result": "Đ"}, "e")


def test_comment_subjects_take_d_or_cd_and_primary_subjects_take_levels_and_tests():
    gdtc = subject("gdtc", 8)
    entry = validate_entry(gdtc, 70, {"regular": ["Đ", "CĐ"], "midterm": "Đ", "final": "Đ"}, "e")
    assert entry.as_dict() == {
        "regular": ["Đ", "CĐ"],
        "midterm": "Đ",
        "final": "Đ",
    }  # partial during the term
    for bad, where in (
        ({"regular": ["Đ", "Tốt"]}, "e.regular[1]"),
        ({"final": "8"}, "e.final"),
        ({"regular": ["Đ"] * 4}, "e.regular"),  # 70 periods → 3 a term
    ):
        with pytest.raises(MarkInvalid) as refused:
            validate_entry(gdtc, 70, bad, "e")
        assert refused.value.field == where, bad
    # The term result is computed (TT22 art. 9 §1a), never typed: a typed one is refused and says what to enter.
    with pytest.raises(MarkInvalid, match="được tính từ các lần đánh giá") as typed:
        validate_entry(gdtc, 70, {"result": "Đ"}, "e")
    assert typed.value.field == "e.result"
    tv = subject("tieng_viet", 4)
    assert validate_entry(tv, None, {"level": "T", "test": 9}, "e").test == 9
    for bad in ({"level": "A"}, {"test": 0}, {"test": 11}, {"test": 7.5}, {"test": True}):
        with pytest.raises(MarkInvalid):
            validate_entry(tv, None, bad, "e")


def test_homeroom_records_differ_between_primary_and_secondary():
    assert validate_homeroom(8, {"conduct": "Khá", "absences": 3}, "e") == {"conduct": "Khá", "absences": 3}
    with pytest.raises(MarkInvalid):
        validate_homeroom(3, {"conduct": "Khá"}, "e")
    assert validate_homeroom(3, {"qualities": {"cham_chi": "Đ"}}, "e") == {"qualities": {"cham_chi": "Đ"}}
    with pytest.raises(MarkInvalid):
        validate_homeroom(3, {"competencies": {"bay": "T"}}, "e")


@pytest.mark.parametrize(
    ("pid", "birth", "gender", "ok"),
    [
        ("001211123456", date(2011, 1, 1), "Nam", True),
        ("001311123456", date(2011, 1, 1), "Nữ", True),
        ("001094123456", date(1994, 1, 1), "Nam", True),
        ("001211123456", date(2012, 1, 1), "Nam", False),  # year
        ("001211123456", date(2011, 1, 1), "Nữ", False),  # sex
        ("00121112345", date(2011, 1, 1), "Nam", False),  # 11 digits
        ("0012111234a6", date(2011, 1, 1), "Nam", False),
    ],
)
def test_personal_id_shape_and_consistency(pid, birth, gender, ok):
    problem = personal_id_problem(pid, birth, gender)
    assert (problem is None) is ok
    if problem:
        assert pid not in problem  # the reason never quotes the number


@pytest.mark.parametrize(
    ("raw", "english", "vietnamese"),
    [(10.5, "within 0–10", "từ 0 đến 10"), ("7.25", "one decimal", "một chữ số")],
)
def test_the_cli_and_the_api_refuse_a_score_with_the_one_check_in_their_own_words(raw, english, vietnamese):
    from services.gradebook.domain.errors import RuleInputError
    from services.gradebook.domain.evaluate import evaluate

    with pytest.raises(MarkInvalid) as api:
        score(raw, "entries[0].final")
    year = {"regular": [7, 7, 7, 7], "midterm": 7, "final": raw}
    payload = {
        "circular": "tt22",
        "grade": 8,
        "subjects": [{"code": "toan", "periods_per_year": 140, "hk1": year, "hk2": year}],
    }
    with pytest.raises(RuleInputError) as cli:
        evaluate(payload)
    assert vietnamese in api.value.detail_vi and api.value.field == "entries[0].final"
    assert english in str(cli.value) and cli.value.field == "subjects[0].hk1.final"


def test_grades_4_and_5_store_a_mid_term_test_in_tieng_viet_and_toan_only():
    """TT27 art. 7: mid-term tests in grades 4–5 for Tiếng Việt and Toán; elsewhere the field is refused."""
    toan = subject("toan", 4)
    assert validate_entry(toan, None, {"level": "T", "midterm_test": 8}, "e", grade=4).as_dict() == {
        "level": "T",
        "midterm_test": 8,
    }
    with pytest.raises(MarkInvalid) as bad:
        validate_entry(toan, None, {"midterm_test": 0}, "e", grade=4)
    assert bad.value.field == "e.midterm_test"
    for code, grade in (("toan", 3), ("khoa_hoc", 5)):
        with pytest.raises(MarkInvalid, match="không dùng"):
            validate_entry(subject(code, grade), None, {"midterm_test": 8}, "e", grade=grade)
