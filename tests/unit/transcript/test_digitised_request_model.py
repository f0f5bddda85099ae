"""A digitised year's text must fit in the học bạ's XML: a control character is the caller's 422, not a 500."""

import copy

import pytest
from pydantic import ValidationError

from services.runtime.http import validation_problem
from services.transcript.api import DigitisedRecordIn
from tests.factories import digitised_year

GOOD = digitised_year("2024-2025", 7, "Học bạ giấy lưu tại trường")


def with_value(path: tuple[object, ...], value: object) -> dict:
    body = copy.deepcopy(GOOD)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("student", "full_name"), "Bùi Thị\x00Trang", "student.full_name"),
        (("source",), "Bản chụp\x1b[31m", "source"),
        (("subjects", 0, "hk1"), {"regular": ["7.5", "8\x0c"]}, "subjects.0.hk1.regular"),
    ],
)
def test_text_the_xml_cannot_hold_is_a_validation_problem_naming_the_field(path, value, field):
    with pytest.raises(ValidationError) as refused:
        DigitisedRecordIn.model_validate(with_value(path, value))
    problem = validation_problem(refused.value)
    assert problem.status == 422
    assert [e["field"] for e in problem.extensions["errors"]] == [field]


def test_tabs_and_line_breaks_and_vietnamese_text_are_kept():
    body = with_value(("source",), "Học bạ giấy\r\n\tlưu tại trường")
    assert DigitisedRecordIn.model_validate(body).source == "Học bạ giấy\r\n\tlưu tại trường"


@pytest.mark.parametrize("school_year", ["0000-0000", "2024-2024", "2025-2024", "2024-2026"])
def test_a_school_year_that_is_not_two_consecutive_years_is_a_validation_problem(school_year):
    with pytest.raises(ValidationError) as refused:
        DigitisedRecordIn.model_validate(with_value(("school_year",), school_year))
    assert [e["field"] for e in validation_problem(refused.value).extensions["errors"]] == ["school_year"]
