"""TT27: the worked example, the year-result table, periodic tests by grade, and the CLI example (see its note)."""

import copy

import pytest

from services.gradebook.domain import tt27
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.evaluate import evaluate
from tests.unit.gradebook.contract_examples import TT27_CLI_EXAMPLE

TESTED = ("tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc_cong_nghe")
OTHERS = ("dao_duc", "am_nhac", "mi_thuat", "gdtc", "hdtn")


def student(grade=5, level="T", tests=None, traits="T"):
    """A grade 4–5 year: the six tested subjects (test 9 in term I, ``tests`` or 8 at year end) and five others."""
    tests = tests or {}
    subjects = [
        {"code": c, "hk1": {"level": level, "test": 9}, "hk2": {"level": level, "test": tests.get(c, 8)}}
        for c in TESTED
    ] + [{"code": c, "hk1": {"level": level}, "hk2": {"level": level}} for c in OTHERS]
    return {
        "circular": "tt27",
        "grade": grade,
        "subjects": subjects,
        "qualities": dict.fromkeys(tt27.QUALITIES, traits),
        "competencies": dict.fromkeys(tt27.COMPETENCIES, traits),
    }


def test_worked_example_grade_5_one_competency_at_dat_is_hoan_thanh():
    payload = student(tests={"tieng_viet": 9, "toan": 10})
    payload["competencies"]["giao_tiep_hop_tac"] = "Đ"
    out = evaluate(payload, explain=True)
    assert out["year_result"] == "Hoàn thành"
    assert out["year_tests"] == {
        "tieng_viet": 9,
        "toan": 10,
        "ngoai_ngu_1": 8,
        "lich_su_dia_li": 8,
        "khoa_hoc": 8,
        "tin_hoc_cong_nghe": 8,
    }
    why = out["explanations"]["year_result"]
    assert why.startswith("Hoàn thành vì 11 môn: 11 Hoàn thành tốt, 0 Hoàn thành, 0 Chưa hoàn thành")
    assert "chưa đạt mức Hoàn thành tốt vì phẩm chất, năng lực giao tiếp và hợp tác Đạt" in why


@pytest.mark.parametrize(
    ("tests", "level", "traits", "result"),
    [
        (dict.fromkeys(TESTED, 9), "T", "T", "Hoàn thành xuất sắc"),
        ({**dict.fromkeys(TESTED, 9), "toan": 8}, "T", "T", "Hoàn thành tốt"),
        (dict.fromkeys(TESTED, 7), "T", "T", "Hoàn thành tốt"),
        ({**dict.fromkeys(TESTED, 9), "toan": 6}, "T", "T", "Hoàn thành"),
        (dict.fromkeys(TESTED, 9), "H", "T", "Hoàn thành"),
        (dict.fromkeys(TESTED, 9), "T", "Đ", "Hoàn thành"),
        (dict.fromkeys(TESTED, 5), "H", "Đ", "Hoàn thành"),
        ({**dict.fromkeys(TESTED, 9), "toan": 4}, "T", "T", "Chưa hoàn thành"),
        (dict.fromkeys(TESTED, 9), "C", "T", "Chưa hoàn thành"),
        (dict.fromkeys(TESTED, 9), "T", "C", "Chưa hoàn thành"),
    ],
)
def test_year_result_table(tests, level, traits, result):
    assert evaluate(student(tests=tests, level=level, traits=traits))["year_result"] == result


def test_the_year_level_of_a_subject_is_its_end_of_year_level():
    payload = student(tests=dict.fromkeys(TESTED, 10))
    payload["subjects"][6]["hk1"]["level"] = "C"  # Đạo đức: Chưa hoàn thành at the end of term I only
    out = evaluate(payload, explain=True)
    assert out["subjects"][6] == {"code": "dao_duc", "year": "T"}
    assert out["year_result"] == "Hoàn thành xuất sắc"
    assert out["explanations"]["dao_duc.year"].startswith(
        "Đạo đức: cuối học kỳ I Chưa hoàn thành, cuối năm học"
    )


def test_awards():
    assert evaluate(student(tests=dict.fromkeys(TESTED, 9)))["award"] == "Học sinh Xuất sắc"
    assert evaluate(student())["award"] is None  # Tiêu biểu needs the class's recognition
    assert tt27.award("Hoàn thành").value is None


def test_cli_contract_example_follows_the_circular():
    """rules-cli.md prints "Hoàn thành tốt" for this input, but by rules.md's own table (and art. 9 §2 of TT27)
    every subject is T at year end, every quality and competency Tốt and the only end-of-year test is 10 ≥ 9: that
    is Hoàn thành xuất sắc. The circular wins (reported to the issue note)."""
    payload = copy.deepcopy(TT27_CLI_EXAMPLE)
    out = evaluate(payload)
    assert out["subjects"] == [{"code": "tieng_viet", "year": "T"}, {"code": "dao_duc", "year": "T"}]
    assert out["year_result"] == "Hoàn thành xuất sắc"
    payload["subjects"][0]["hk2"]["test"] = 8  # what makes it Hoàn thành tốt: a year-end test of 7 or 8
    assert evaluate(payload)["year_result"] == "Hoàn thành tốt"


# -- periodic tests (art. 7) -------------------------------------------------------------------------------------


def primary(grade, *subjects):
    return {
        "circular": "tt27",
        "grade": grade,
        "subjects": list(subjects),
        "qualities": dict.fromkeys(tt27.QUALITIES, "T"),
        "competencies": dict.fromkeys(tt27.competencies(grade), "T"),
    }


def level_only(code):
    return {"code": code, "hk1": {"level": "T"}, "hk2": {"level": "T"}}


def with_tests(code, hk1=9, hk2=9, **extra):
    return {"code": code, "hk1": {"level": "T", "test": hk1, **extra}, "hk2": {"level": "T", "test": hk2}}


@pytest.mark.parametrize(
    ("grade", "subject", "field", "words"),
    [
        (
            3,
            level_only("ngoai_ngu_1"),
            "subjects[0].hk1.test",
            "periodic test at the end of term I in grade 3",
        ),
        (4, level_only("khoa_hoc"), "subjects[0].hk1.test", "Khoa học has a periodic test"),
        (3, with_tests("tin_hoc_cong_nghe", hk2=None), "subjects[0].hk2.test", "at the end of the year"),
        (3, level_only("lich_su_dia_li"), "subjects[0].code", "not taught in grade 3"),
        (4, level_only("tu_nhien_xa_hoi"), "subjects[0].code", "not taught in grade 4"),
        (4, with_tests("dao_duc"), "subjects[0].hk1.test", "Đạo đức has no periodic test"),
        (4, with_tests("toan", hk1=0), "subjects[0].hk1.test", "integer 1–10, got 0"),
        (4, with_tests("toan", hk1=11), "subjects[0].hk1.test", "integer 1–10, got 11"),
        (4, with_tests("toan", hk2=7.5), "subjects[0].hk2.test", "integer 1–10, got 7.5"),
        (4, with_tests("toan", hk2="chín"), "subjects[0].hk2.test", "integer 1–10"),
        (4, with_tests("toan", hk2=True), "subjects[0].hk2.test", "integer 1–10"),
        (
            3,
            with_tests("toan", midterm_test=8),
            "subjects[0].hk1.midterm_test",
            "only Tiếng Việt and Toán in grades 4–5",
        ),
        (
            5,
            with_tests("khoa_hoc", midterm_test=8),
            "subjects[0].hk1.midterm_test",
            "not Khoa học in grade 5",
        ),
        (5, with_tests("toan", midterm_test=0), "subjects[0].hk1.midterm_test", "integer 1–10"),
    ],
)
def test_periodic_tests_by_subject_and_grade(grade, subject, field, words):
    with pytest.raises(RuleInputError) as error:
        evaluate(primary(grade, subject))
    assert error.value.field == field and words in str(error.value)


def test_tests_that_are_not_required_or_are_whole_numbers_are_accepted():
    assert evaluate(primary(2, level_only("ngoai_ngu_1"), level_only("tu_nhien_xa_hoi")))["year_tests"] == {}
    assert evaluate(primary(1, with_tests("ngoai_ngu_1", hk2=6)))["year_tests"] == {
        "ngoai_ngu_1": 6
    }  # elective
    assert evaluate(primary(4, with_tests("toan", hk1=9.0, midterm_test=7)))["year_tests"] == {"toan": 9}
    assert (
        evaluate(primary(2, level_only("tieng_anh_tang_cuong")))["subjects"][0]["year"] == "T"
    )  # not listed


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["subjects"][0]["hk2"].pop("test"), "subjects[0].hk2.test"),
        (lambda p: p["subjects"][7]["hk1"].update(level="A"), "subjects[7].hk1.level"),
        (lambda p: p["subjects"][7]["hk1"].update(level="Hoàn thành"), "subjects[7].hk1.level"),
        (lambda p: p["subjects"][7].pop("hk2"), "subjects[7].hk2"),
        (lambda p: p["subjects"][7].update(assessment="level"), "subjects[7].assessment"),
        (lambda p: p["subjects"][7].pop("code"), "subjects[7].code"),
        (lambda p: p["subjects"][7].update(code="toan"), "subjects[7].code"),  # twice
        (lambda p: p["qualities"].pop("nhan_ai"), "qualities.nhan_ai"),
        (lambda p: p["qualities"].update(nhan_ai="Tốt"), "qualities.nhan_ai"),
        (lambda p: p["competencies"].update(bay_nhay="T"), "competencies.bay_nhay"),
        (lambda p: p.pop("competencies"), "competencies"),
        (lambda p: p.update(grade=6), "grade"),
        (lambda p: p.update(absences=3), "absences"),  # a TT22 field
    ],
)
def test_invalid_primary_input_names_the_field(mutate, field):
    payload = student()
    mutate(payload)
    with pytest.raises(RuleInputError) as error:
        evaluate(payload)
    assert error.value.field == field


def test_decomposed_vietnamese_letters_are_read_as_composed():
    import unicodedata

    payload = student()
    payload["qualities"]["nhan_ai"] = unicodedata.normalize("NFD", "Đ")
    payload["subjects"][6]["name"] = unicodedata.normalize("NFD", "Đạo đức")
    assert evaluate(payload)["year_result"] == "Hoàn thành"
