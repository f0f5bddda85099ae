"""Each record's path gives its cutoff; after it, amendments are closed (the cutoff day itself still counts)."""

from datetime import date

import pytest

from services.gradebook.domain.cutoff import (
    AmendmentAfterCutoff,
    ReportingCalendar,
    cutoff_of,
    reporting_path,
)

CUTOFFS = {"regular": "06-30", "supplementary": "08-15"}


@pytest.mark.parametrize(
    ("grade", "year", "path"),
    [
        (8, {"promotion": "lên lớp"}, "regular"),
        (8, {"promotion": "kiểm tra lại"}, "supplementary"),
        (9, {"promotion": "rèn luyện trong kì nghỉ hè"}, "supplementary"),
        (8, {"promotion": "ở lại lớp"}, "regular"),
        (8, {}, "regular"),  # nothing computed yet
        (3, {"year_result": "Chưa hoàn thành"}, "supplementary"),
        (5, {"year_result": "Chưa hoàn thành"}, "regular"),  # seed 004: grades 1–4 only
        (4, {"year_result": "Hoàn thành tốt"}, "regular"),
    ],
)
def test_the_path_follows_the_year_s_results(grade, year, path):
    assert reporting_path(grade, year) == path


def test_the_cutoff_day_still_counts_the_next_is_refused():
    assert cutoff_of("2025-2026", "supplementary", CUTOFFS) == date(2026, 8, 15)
    ReportingCalendar(date(2026, 6, 30), CUTOFFS).check_amendable("2025-2026", "regular")
    ReportingCalendar(date(2026, 7, 20), CUTOFFS).check_amendable("2025-2026", "supplementary")
    with pytest.raises(AmendmentAfterCutoff) as refused:
        ReportingCalendar(date(2026, 7, 1), CUTOFFS).check_amendable("2025-2026", "regular")
    assert "đã có hiệu lực từ ngày 30/06/2026" in refused.value.detail_vi
