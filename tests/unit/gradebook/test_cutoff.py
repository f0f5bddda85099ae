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


def test_the_path_is_the_one_the_year_s_results_decided():
    assert reporting_path({"reporting_path": "supplementary"}) == "supplementary"
    assert reporting_path({"reporting_path": "regular"}) == "regular"
    assert reporting_path({}) == "regular"  # nothing decided yet


def test_the_cutoff_day_still_counts_the_next_is_refused():
    assert cutoff_of("2025-2026", "supplementary", CUTOFFS) == date(2026, 8, 15)
    ReportingCalendar(date(2026, 6, 30), CUTOFFS).check_amendable("2025-2026", "regular")
    ReportingCalendar(date(2026, 7, 20), CUTOFFS).check_amendable("2025-2026", "supplementary")
    with pytest.raises(AmendmentAfterCutoff) as refused:
        ReportingCalendar(date(2026, 7, 1), CUTOFFS).check_amendable("2025-2026", "regular")
    assert "đã có hiệu lực từ ngày 30/06/2026" in refused.value.detail_vi
