"""Individual education plans (TT22 art. 10, TT27): the plan's subjects assessed against the plan, the record saying so."""

from datetime import UTC, datetime

import pytest

from services.gradebook.domain import tt27
from services.gradebook.domain.curriculum import Assessment
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.evaluate import evaluate
from services.gradebook.domain.individual_plan import (
    IndividualPlan,
    PlanExists,
    PlanRefused,
    check_entry,
    check_new,
    plan_subjects,
)
from services.gradebook.domain.results import compute_results
from services.gradebook.domain.year import LevelTerm, SubjectYear, primary_year

PERIODS = {"toan": 140, "gdtc": 70}
MARKS = {
    # rules.md's worked example: term I 6.9, term II 8.1, year 7.7
    "toan": {
        "hk1": {"regular": ["6", "7", "8", "7.5"], "midterm": "6.5", "final": "7"},
        "hk2": {"regular": ["8", "8", "9", "7"], "midterm": "7.5", "final": "8.5"},
    },
    "gdtc": {t: {"regular": ["Đ", "Đ", "Đ"], "midterm": "Đ", "final": "Đ"} for t in ("hk1", "hk2")},
}
TERMS = {"hk1": {"conduct": "Khá", "absences": 1}, "hk2": {"conduct": "Tốt", "absences": 0}}
PLAN_WORDS = "kế hoạch giáo dục cá nhân"


def plan(**changes):
    values = dict(
        id="kh-1",
        school_id="s1",
        class_id="8a1",
        student_id="hs-1",
        subjects=("toan",),
        reason="Quyết định số 12/QĐ-THCS",
        decided_by="ht",
        decided_at=datetime(2026, 9, 10, tzinfo=UTC),
    )
    return IndividualPlan(**(values | changes))


def test_a_plan_subject_keeps_its_scores_and_the_year_is_computed_by_the_same_rules():
    usual = compute_results(8, PERIODS, MARKS, TERMS)
    planned = compute_results(8, PERIODS, MARKS, TERMS, plan=frozenset({"toan"}))
    # TT22 art. 10: the same form against the plan's requirements, so the same computation on the values.
    assert planned.averages == usual.averages and planned.year == usual.year
    assert planned.average("toan", "year") == "7.7"


def test_the_explanations_name_the_plan_on_its_subjects_the_learning_result_and_the_conduct():
    why = compute_results(8, PERIODS, MARKS, TERMS, plan=frozenset({"toan"})).explanations
    for key in ("toan.hk1", "toan.hk2", "toan.year"):
        assert "đánh giá theo yêu cầu của kế hoạch giáo dục cá nhân (Điều 10" in why[key], key
    assert PLAN_WORDS not in why["gdtc.hk1"]
    for key in ("learning_result.hk1", "learning_result.year", "conduct.year"):
        assert f"học sinh học theo {PLAN_WORDS}: Toán đánh giá theo yêu cầu" in why[key], key
    usual = compute_results(8, PERIODS, MARKS, TERMS).explanations
    assert not any(PLAN_WORDS in text for text in usual.values())


def test_a_primary_pupil_s_plan_is_named_in_the_year_result():
    grade = 4
    subjects = [
        SubjectYear(
            code,
            name,
            Assessment.LEVEL,
            hk1=LevelTerm("H", 7 if tested else None),
            hk2=LevelTerm("H", 7 if tested else None),
            individual_plan=code == "toan",
        )
        for code, name, tested in (("toan", "Toán", True), ("dao_duc", "Đạo đức", False))
    ]
    year = primary_year(
        grade,
        subjects,
        qualities=dict.fromkeys(tt27.QUALITIES, "Đ"),
        competencies=dict.fromkeys(tt27.competencies(grade), "Đ"),
    )
    assert year.decision is not None and year.decision.year_result == "Hoàn thành"
    assert f"học sinh học theo {PLAN_WORDS}: Toán" in year.explanations["year_result"]
    assert "Thông tư 27/2020/TT-BGDĐT" in year.explanations["toan.year"]
    assert PLAN_WORDS not in year.explanations["dao_duc.year"]


def test_a_plan_names_subjects_the_class_studies_once_and_a_student_has_one_a_year():
    studied = {"toan": "Toán", "gdtc": "Giáo dục thể chất"}
    check_new(plan(), [], studied)
    for wrong, said in (
        (plan(subjects=()), "phải nêu ít nhất một môn"),
        (plan(subjects=("toan", "toan")), "chỉ được nêu một lần"),
        (plan(subjects=("hoa_hoc",)), "Lớp không học môn: hoa_hoc"),
    ):
        with pytest.raises(PlanRefused) as refused:
            check_new(wrong, [], studied)
        assert said in refused.value.detail_vi
    with pytest.raises(PlanExists):
        check_new(plan(id="kh-2"), [plan()], studied)
    check_new(plan(id="kh-2", student_id="hs-2"), [plan()], studied)  # another student's plan is theirs


def test_a_plan_subject_s_complete_term_needs_the_teacher_s_comment_against_the_plan():
    complete = {"regular": ["7", "8"], "midterm": "7", "final": "8"}
    refusal = check_entry(complete, subject_name="Toán")
    assert refusal is not None and "ghi nhận xét về mức độ học sinh đạt yêu cầu của kế hoạch" in refusal
    assert check_entry(complete | {"comment": "  "}, subject_name="Toán") is not None
    assert (
        check_entry(complete | {"comment": "Đạt yêu cầu cộng trừ trong phạm vi 100"}, subject_name="Toán")
        is None
    )
    assert (
        check_entry({"regular": ["7"]}, subject_name="Toán") is None
    )  # mid-term entry: the comment comes later
    assert (
        check_entry({"level": "H", "test": 6}, subject_name="Toán") is not None
    )  # primary: the level is the term


def test_plan_subjects_by_student():
    found = plan_subjects([plan(), plan(id="kh-2", student_id="hs-2", subjects=("gdtc", "toan"))])
    assert found == {"hs-1": frozenset({"toan"}), "hs-2": frozenset({"gdtc", "toan"})}


def test_the_rules_cli_takes_individual_plan_on_a_subject_and_says_so():
    def payload(flag):
        subjects = [
            {"code": "toan", "periods_per_year": 140, **MARKS["toan"], "individual_plan": flag},
            {"code": "gdtc", "periods_per_year": 70, **MARKS["gdtc"]},
        ]
        conduct = {"hk1": "Khá", "hk2": "Tốt"}
        return {"circular": "tt22", "grade": 8, "subjects": subjects, "conduct": conduct, "absences": 1}

    out = evaluate(payload(True), explain=True)
    assert [r.get("individual_plan") for r in out["subjects"]] == [True, None]
    assert f"học sinh học theo {PLAN_WORDS}: Toán" in out["explanations"]["learning_result.year"]
    usual = evaluate(payload(False), explain=True)
    assert (
        usual["learning_result"] == out["learning_result"] and "individual_plan" not in usual["subjects"][0]
    )
    with pytest.raises(RuleInputError) as refused:
        evaluate(payload("có"), explain=True)
    assert "subjects[0].individual_plan" in str(refused.value)
