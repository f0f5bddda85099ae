"""TT27: the worked example, the year-result table, and the CLI example (see the note on its output)."""

import pytest

from services.gradebook.domain import tt27
from services.gradebook.domain.errors import RuleInputError
from services.gradebook.domain.evaluate import evaluate

QUALITIES, COMPETENCIES, TESTED = tt27.QUALITIES, tt27.COMPETENCIES, tt27.TESTED
OTHERS = ("dao_duc", "am_nhac", "mi_thuat", "gdtc", "hdtn")


def student(grade=5, level="T", tests=None, traits="T", **overrides):
    tests = tests or {}
    subjects = [
        {"code": c, "hk1": {"level": level, "test": 9}, "hk2": {"level": level, "test": tests.get(c, 8)}}
        for c in TESTED
    ] + [{"code": c, "hk1": {"level": level}, "hk2": {"level": level}} for c in OTHERS]
    payload = {
        "circular": "tt27",
        "grade": grade,
        "subjects": subjects,
        "qualities": dict.fromkeys(QUALITIES, traits),
        "competencies": dict.fromkeys(COMPETENCIES, traits),
    }
    payload.update(overrides)
    return payload


def test_worked_example_grade_5_one_competency_at_dat_is_hoan_thanh():
    payload = student(tests={"tieng_viet": 9, "toan": 10})
    payload["competencies"]["giao_tiep_hop_tac"] = "Đ"
    out = evaluate(payload, explain=True)
    assert out["year_result"] == "Hoàn thành"
    assert "giao_tiep_hop_tac" in out["explanations"]["year_result"]


@pytest.mark.parametrize(
    ("tests", "level", "traits", "result"),
    [
        (dict.fromkeys(TESTED, 9), "T", "T", "Hoàn thành xuất sắc"),
        ({**dict.fromkeys(TESTED, 9), "toan": 8}, "T", "T", "Hoàn thành tốt"),
        ({**dict.fromkeys(TESTED, 9), "toan": 6}, "T", "T", "Hoàn thành"),
        (dict.fromkeys(TESTED, 9), "H", "T", "Hoàn thành"),
        ({**dict.fromkeys(TESTED, 9), "toan": 4}, "T", "T", "Chưa hoàn thành"),
        (dict.fromkeys(TESTED, 9), "C", "T", "Chưa hoàn thành"),
        (dict.fromkeys(TESTED, 9), "T", "C", "Chưa hoàn thành"),
    ],
)
def test_year_result_table(tests, level, traits, result):
    assert evaluate(student(tests=tests, level=level, traits=traits))["year_result"] == result


def test_cli_contract_example_follows_the_circular():
    """rules-cli.md prints "Hoàn thành tốt" for this input, but by its own table (and art. 9 §2 of TT27) every
    subject is T at year end, every quality and competency Tốt and the only end-of-year test is 10 ≥ 9: that is
    Hoàn thành xuất sắc. The circular wins (noted in the issue note)."""
    payload = {
        "circular": "tt27",
        "grade": 4,
        "subjects": [
            {
                "code": "tieng_viet",
                "name": "Tiếng Việt",
                "hk1": {"level": "T", "test": 9},
                "hk2": {"level": "T", "test": 10},
            },
            {"code": "dao_duc", "name": "Đạo đức", "hk1": {"level": "H"}, "hk2": {"level": "T"}},
        ],
        "qualities": dict.fromkeys(QUALITIES, "T"),
        "competencies": dict.fromkeys(COMPETENCIES, "T"),
    }
    out = evaluate(payload)
    assert out["subjects"] == [{"code": "tieng_viet", "year": "T"}, {"code": "dao_duc", "year": "T"}]
    assert out["year_result"] == "Hoàn thành xuất sắc"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["subjects"][0]["hk2"].pop("test"), "subjects[0].hk2.test"),
        (lambda p: p["subjects"][0]["hk2"].update(test=0), "subjects[0].hk2.test"),
        (lambda p: p["subjects"][0]["hk2"].update(test=7.5), "subjects[0].hk2.test"),
        (lambda p: p["subjects"][7]["hk1"].update(level="A"), "subjects[7].hk1.level"),
        (lambda p: p["qualities"].pop("nhan_ai"), "qualities.nhan_ai"),
        (lambda p: p["competencies"].update(bay_nhay="T"), "competencies.bay_nhay"),
        (lambda p: p["subjects"][7].pop("hk2"), "subjects[7].hk2"),
        (lambda p: p.update(grade=6), "grade"),
    ],
)
def test_invalid_primary_input_names_the_field(mutate, field):
    payload = student()
    mutate(payload)
    with pytest.raises(RuleInputError) as error:
        evaluate(payload)
    assert error.value.field == field
