"""A student who joined in term II: term I carried from the previous school, the year computed from both (TT22)."""

import pytest

from services.gradebook.domain.carried import (
    CarriedTerm,
    CarriedTermInvalid,
    CarriedTermRefused,
    checked_subjects,
)
from services.gradebook.domain.curriculum import Assessment
from services.gradebook.domain.results import compute_results

PERIODS = {"toan": 140, "gdtc": 70}
HK2 = {
    # rules.md's worked example, term II: (32 + 15 + 25.5) / 9 = 8.055… → 8.1
    "toan": {"hk2": {"regular": ["8", "8", "9", "7"], "midterm": "7.5", "final": "8.5"}},
    "gdtc": {"hk2": {"regular": ["Đ", "Đ", "Đ"], "midterm": "Đ", "final": "Đ"}},
}
CARRIED = CarriedTerm(
    school_id="thcs-b",
    class_id="8a1",
    student_id="hs-1",
    term="hk1",
    from_school_id="thcs-a",
    from_school_name="Trường THCS Trần Phú",
    subjects={"toan": "6.9", "gdtc": "Đ"},
    conduct="Khá",
    absences=2,
)


def test_the_year_is_computed_from_the_carried_term_i_and_this_school_s_term_ii():
    results = compute_results(
        8, PERIODS, HK2, {"hk2": {"conduct": "Tốt", "absences": 1}}, carried={"hk1": CARRIED}
    )
    assert results.average("toan", "hk1") == "6.9" and results.average("toan", "hk2") == "8.1"
    assert results.average("toan", "year") == "7.7"  # (6.9 + 2·8.1) / 3 = 7.7, as rules.md's worked example
    assert results.average("gdtc", "year") == "Đ"
    assert results.year["conduct"] == "Tốt"  # term II Tốt, term I Khá (art. 8)
    assert results.year["absences"] == "3"
    why = results.explanations
    assert "do Trường THCS Trần Phú đánh giá" in why["toan.hk1"]
    assert "học kỳ I do Trường THCS Trần Phú đánh giá" in why["toan.year"]
    assert "học kỳ II do trường hiện tại đánh giá" in why["toan.year"]
    assert "Trường THCS Trần Phú" in why["conduct.year"]


def test_without_the_carried_term_a_student_who_joined_in_term_ii_has_no_year():
    results = compute_results(8, PERIODS, HK2, {"hk2": {"conduct": "Tốt"}})
    assert results.average("toan", "year") is None and results.year == {}


def test_the_carried_term_stands_for_term_i_whatever_the_class_holds():
    own = {
        code: {**terms, "hk1": {"regular": ["1", "1", "1", "1"], "midterm": "1", "final": "1"}}
        for code, terms in HK2.items()
    }
    results = compute_results(8, {"toan": 140}, own, {}, carried={"hk1": CARRIED})
    assert results.average("toan", "hk1") == "6.9"


def test_a_carried_result_is_checked_like_a_term_result():
    taught = {"toan": ("Toán", Assessment.SCORE), "gdtc": ("Giáo dục thể chất", Assessment.COMMENT)}
    assert checked_subjects({"toan": "7.0", "gdtc": "CĐ"}, taught, "tt22") == {"toan": "7", "gdtc": "CĐ"}
    for wrong, said in (
        ({"toan": "7.25"}, "Toán: Điểm chỉ có tối đa một chữ số thập phân"),
        ({"toan": "11"}, "Toán: Điểm phải từ 0 đến 10"),
        ({"gdtc": "7"}, "Giáo dục thể chất là môn đánh giá bằng nhận xét"),
        ({"hoa_hoc": "7"}, "Môn “hoa_hoc” không được phân công cho lớp này"),
    ):
        with pytest.raises(CarriedTermInvalid) as refused:
            checked_subjects(wrong, taught, "tt22")
        assert refused.value.detail_vi.startswith(said), refused.value.detail_vi
    with pytest.raises(CarriedTermRefused):
        checked_subjects({"toan": "7"}, taught, "tt27")
