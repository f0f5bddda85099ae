"""`hocba rules evaluate` over the whole year (rules-cli.md "The whole year"): exemptions, re-tests and the summer,
the promotion decided again, primary completion and each record's reporting path."""

import pytest

from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.evaluate import evaluate
from tests.unit.gradebook.test_tt22_rules import SCORED, student
from tests.unit.gradebook.test_tt27_rules import student as pupil


def subject_of(out, code):
    return next(s for s in out["subjects"] if s["code"] == code)


# -- exemptions ----------------------------------------------------------------------------------------------------


def test_an_exempt_comment_subject_prints_mien_and_leaves_the_learning_result():
    payload = student(comments={"gdtc": "CĐ"})  # a Chưa đạt that would cost the Tốt…
    assert evaluate(payload)["learning_result"]["year"] == "Khá"  # (the adjustment raises Đạt to Khá)
    gdtc = next(s for s in payload["subjects"] if s["code"] == "gdtc")
    del gdtc["hk1"], gdtc["hk2"]
    gdtc["exempt"] = ["hk1", "hk2"]  # …is exempted on health grounds for the year
    out = evaluate(payload, explain=True)
    assert subject_of(out, "gdtc") == {"code": "gdtc", "hk1": "Miễn", "hk2": "Miễn", "year": "Miễn"}
    assert out["learning_result"] == {"hk1": "Tốt", "hk2": "Tốt", "year": "Tốt"}
    assert "miễn học" in out["explanations"]["gdtc.hk1"]


def test_one_exempt_term_leaves_the_year_to_the_term_studied():
    payload = student(scores={"tin_hoc": 9}, hk2_scores={"tin_hoc": 6})
    tin = next(s for s in payload["subjects"] if s["code"] == "tin_hoc")
    del tin["hk1"]
    tin["exempt"] = ["hk1"]
    out = evaluate(payload, explain=True)
    assert subject_of(out, "tin_hoc") == {"code": "tin_hoc", "hk1": "Miễn", "hk2": 6.0, "year": 6.0}
    assert "theo học kỳ II" in out["explanations"]["tin_hoc.year"]


def test_exempt_scored_subjects_lower_the_count_to_every_subject_studied():
    """ "At least 6 scored subjects" becomes "at least 6, or all of them when fewer" for an exempted student."""
    payload = student()
    for s in payload["subjects"][:3]:  # three of the eight scored subjects exempted: five studied, all 9
        del s["hk1"], s["hk2"]
        s["exempt"] = ["hk1", "hk2"]
    assert evaluate(payload)["learning_result"]["year"] == "Tốt"
    # Without an exemption the table's six stand, however few subjects are given (rules-cli.md's example).
    short = student()
    short["subjects"] = short["subjects"][3:]
    assert evaluate(short)["learning_result"]["year"] == "Chưa đạt"


@pytest.mark.parametrize(
    ("exempt", "field"),
    [("hk1", "subjects[0].exempt"), (["hk3"], "subjects[0].exempt"), (["hk1", "hk1"], "subjects[0].exempt")],
)
def test_a_malformed_exemption_names_the_field(exempt, field):
    payload = student()
    payload["subjects"][0]["exempt"] = exempt
    with pytest.raises(RuleInputError) as error:
        evaluate(payload)
    assert error.value.field == field


def test_an_exempt_term_with_marks_is_refused():
    payload = student()
    payload["subjects"][0]["exempt"] = ["hk1"]
    with pytest.raises(RuleInputError) as error:
        evaluate(payload)
    assert error.value.field == "subjects[0].hk1"


# -- after the year ------------------------------------------------------------------------------------------------


def test_a_retest_that_passes_moves_the_student_up_on_the_supplementary_path():
    payload = student(scores={"toan": 3, "khtn": 4.5})  # two subjects under 5: Chưa đạt, no adjustment
    out = evaluate(payload)
    assert out["learning_result"]["year"] == "Chưa đạt"
    assert out["promotion"] == {"outcome": "kiểm tra lại", "retest_subjects": ["toan", "khtn"]}
    assert out["reporting_cutoff"] == "08-15"
    assert "promotion_after_retest" not in out
    subject_of(payload, "toan")["retest"] = 6.5
    subject_of(payload, "khtn")["retest"] = 5
    after = evaluate(payload, explain=True)
    assert subject_of(after, "toan")["year"] == 3.0 and subject_of(after, "toan")["year_after_retest"] == 6.5
    assert after["learning_result"]["year"] == "Chưa đạt"  # the year-end result stays in the record
    assert after["learning_result_after_retest"] == "Khá"  # 6 subjects ≥ 6.5, every one ≥ 5
    assert after["promotion_after_retest"] == {"outcome": "lên lớp"}
    assert "kiểm tra lại 6,5" in after["explanations"]["toan.year_after_retest"]


def test_a_retest_that_fails_repeats_the_grade():
    payload = student(scores={"toan": 3, "khtn": 4.5})
    subject_of(payload, "toan")["retest"] = 3.4
    subject_of(payload, "khtn")["retest"] = 3
    out = evaluate(payload)
    assert out["learning_result_after_retest"] == "Chưa đạt"  # two subjects under 3.5: no §3 adjustment
    assert out["promotion_after_retest"] == {"outcome": "ở lại lớp"}


def test_summer_training_re_assesses_the_conduct_and_grade_nine_completes():
    out = evaluate(student(conduct=("Chưa đạt", "Chưa đạt"), grade=9))
    assert out["promotion"]["outcome"] == "rèn luyện trong kì nghỉ hè" and out["reporting_cutoff"] == "08-15"
    passed = student(conduct=("Chưa đạt", "Chưa đạt"), grade=9)
    passed["conduct_after_summer"] = "Đạt"
    assert evaluate(passed)["promotion_after_retest"] == {"outcome": "hoàn thành chương trình"}
    failed = student(conduct=("Chưa đạt", "Chưa đạt"))
    failed["conduct_after_summer"] = "Chưa đạt"
    assert evaluate(failed)["promotion_after_retest"] == {"outcome": "ở lại lớp"}


def test_a_comment_subject_retest_replaces_its_year_result():
    payload = student(comments={"gdtc": "CĐ", "hdtn": "CĐ"}, scores={"toan": 4})
    out = evaluate(payload)
    assert out["promotion"]["outcome"] == "kiểm tra lại"
    assert out["promotion"]["retest_subjects"] == ["toan", "gdtc", "hdtn"]
    for code, value in (("toan", 7), ("gdtc", "Đ"), ("hdtn", "Đ")):
        subject_of(payload, code)["retest"] = value
    after = evaluate(payload)
    assert subject_of(after, "gdtc")["year_after_retest"] == "Đ"
    assert after["learning_result_after_retest"] == "Tốt"


def test_everyone_else_is_reported_by_the_end_of_june():
    assert evaluate(student())["reporting_cutoff"] == "06-30"
    assert evaluate(student(absences=50))["reporting_cutoff"] == "06-30"  # ở lại lớp: no summer path


def test_a_bad_retest_or_summer_conduct_names_the_field():
    for change, field in (
        (lambda p: subject_of(p, "toan").update(retest=11), "subjects[1].retest"),
        (lambda p: subject_of(p, "gdtc").update(retest="Tốt"), "subjects[8].retest"),
        (lambda p: p.update(conduct_after_summer="Giỏi"), "conduct_after_summer"),
    ):
        payload = student()
        change(payload)
        with pytest.raises(RuleInputError) as error:
            evaluate(payload)
        assert error.value.field == field


# -- primary: completion and its reporting path ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "level", "completion", "cutoff"),
    [
        (4, "T", "Hoàn thành chương trình lớp học", "06-30"),
        (5, "T", "Hoàn thành chương trình tiểu học", "06-30"),
        (4, "C", "Chưa hoàn thành chương trình lớp học", "08-15"),  # supplementary assessment over the summer
        (5, "C", "Chưa hoàn thành chương trình lớp học", "06-30"),  # seed 004 names only grades 1–4
    ],
)
def test_primary_completion_decides_the_reporting_path(grade, level, completion, cutoff):
    out = evaluate(pupil(grade=grade, level=level))
    assert (out["completion"], out["reporting_cutoff"]) == (completion, cutoff)


def test_the_scored_timetable_is_the_one_the_tt22_tests_use():
    assert len(SCORED) == 8
