"""The record's effective date (ngày hiệu lực) is the cutoff of its reporting path (rules.md)."""

from datetime import date

import pytest

from services.transcript.domain.effective import effective_date, reporting_path


@pytest.mark.parametrize(
    ("grade", "year_result", "promotion", "expected"),
    [
        (5, "Hoàn thành", None, date(2026, 6, 30)),
        (3, "Hoàn thành tốt", None, date(2026, 6, 30)),
        (3, "Chưa hoàn thành", None, date(2026, 8, 15)),  # supplementary teaching over the summer
        (
            5,
            "Chưa hoàn thành",
            None,
            date(2026, 6, 30),
        ),  # grade 5 has no supplementary path (grades 1–4 only)
        (8, None, "lên lớp", date(2026, 6, 30)),
        (9, None, "hoàn thành chương trình", date(2026, 6, 30)),
        (8, None, "kiểm tra lại", date(2026, 8, 15)),  # re-evaluated after the re-test, before 15 August
        (7, None, "rèn luyện trong kì nghỉ hè", date(2026, 8, 15)),
        (11, None, "kiểm tra lại và rèn luyện trong kì nghỉ hè", date(2026, 8, 15)),
        (8, None, "ở lại lớp", date(2026, 6, 30)),  # decided at the year's end: nothing to wait for
        (8, None, None, date(2026, 6, 30)),
    ],
)
def test_the_effective_date_is_the_cutoff_of_the_records_path(grade, year_result, promotion, expected):
    path = reporting_path({"year_result": year_result, "promotion": promotion}, grade)
    assert effective_date("2025-2026", path) == expected


def test_the_gradebook_s_decided_path_wins_over_the_fallback():
    assert reporting_path({"reporting_path": "supplementary", "promotion": "lên lớp"}, 8) == "supplementary"
    assert reporting_path({"reporting_path": "regular", "promotion": "kiểm tra lại"}, 8) == "regular"


def test_the_province_configures_the_cutoffs():
    cutoffs = {"regular": "07-05", "supplementary": "08-20"}
    assert effective_date("2026-2027", "regular", cutoffs) == date(2027, 7, 5)
    assert effective_date("2026-2027", "supplementary", cutoffs) == date(2027, 8, 20)
