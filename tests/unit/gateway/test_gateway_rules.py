"""The gateway's pure rules: cutoffs, statuses, versions, lookup codes, history wording, tokens, seeded faults."""

from datetime import date

import pytest

from sandbox.gateway import auth
from sandbox.gateway.domain import errors, rules
from sandbox.gateway.faults import FaultConfig, Faults


def test_cutoffs_fall_in_the_end_year_regular_30_june_supplementary_15_august():
    cutoffs = rules.Cutoffs()
    assert cutoffs.of("2025-2026", "regular") == date(2026, 6, 30)
    assert cutoffs.of("2025-2026", "supplementary") == date(2026, 8, 15)


def test_cutoffs_are_configurable_and_checked():
    assert rules.Cutoffs.parse("05-31", "08-01").of("2025-2026", "regular") == date(2026, 5, 31)
    with pytest.raises(ValueError):
        rules.Cutoffs.parse("02-31", "08-15")


@pytest.mark.parametrize("year", ["2025", "2025-2027", "2026-2025", "25-26"])
def test_a_school_year_must_be_two_consecutive_years(year):
    with pytest.raises(errors.BodyInvalid):
        rules.Cutoffs().of(year, "regular")


def test_the_cutoff_day_still_accepts_changes_and_the_next_day_refuses_naming_the_date():
    rules.check_before_cutoff(date(2026, 6, 30), date(2026, 6, 30), "thu hồi bản ghi")
    with pytest.raises(errors.CutoffPassed) as refused:
        rules.check_before_cutoff(date(2026, 7, 1), date(2026, 6, 30), "thu hồi bản ghi")
    assert "30/06/2026" in refused.value.detail_vi and "thu hồi" in refused.value.detail_vi
    assert refused.value.reason == "cutoff_passed"


@pytest.mark.parametrize("grade", [1, 2, 3, 4, 6, 8, 12])
def test_the_supplementary_path_is_for_grades_one_to_four_and_secondary_re_tests(grade):
    assert rules.check_assessment("supplementary", grade) == "supplementary"


@pytest.mark.parametrize("grade", [5])
def test_the_supplementary_path_is_refused_in_grade_five(grade):
    with pytest.raises(errors.SupplementaryNotAllowed):
        rules.check_assessment("supplementary", grade)
    assert rules.check_assessment("regular", grade) == "regular"


def test_an_unknown_assessment_is_a_body_error():
    with pytest.raises(errors.BodyInvalid):
        rules.check_assessment("summer", 3)


def test_the_current_version_becomes_effective_after_its_cutoff():
    cutoff = date(2026, 6, 30)
    assert rules.public_status("current", date(2026, 6, 30), cutoff) == "current"
    assert rules.public_status("current", date(2026, 7, 1), cutoff) == "effective"
    assert rules.public_status("replaced", date(2026, 7, 1), cutoff) == "replaced"
    assert rules.public_status("withdrawn", date(2026, 7, 1), cutoff) == "withdrawn"


def test_a_replacement_is_the_same_year_record_with_a_higher_version():
    rules.check_new_version(1, 2, True)
    for current, new, same in ((2, 2, True), (2, 1, True), (1, 2, False)):
        with pytest.raises(errors.IdentityMismatch):
            rules.check_new_version(current, new, same)


def test_lookup_codes_are_normalised_as_readers_type_them():
    code = "0123456789abcdef0123456789abcdef"
    assert rules.normalise_lookup_code(code) == code
    assert rules.normalise_lookup_code("0123 4567-89AB cdef 0123456789abcdef") == code
    for bad in ("", "xyz", code[:-1], code + "0", "g" * 32):
        assert rules.normalise_lookup_code(bad) is None


def test_history_lines_read_as_the_portal_shows_them():
    assert (
        rules.history_line(2, 1, "accepted", date(2026, 6, 3), "Sửa điểm Toán")
        == "Phiên bản 2 thay thế phiên bản 1 ngày 03/06/2026, lý do: Sửa điểm Toán"
    )
    assert rules.history_line(1, None, "accepted", date(2026, 5, 2), None) == (
        "Phiên bản 1 được tiếp nhận ngày 02/05/2026"
    )
    assert rules.history_line(2, None, "withdrawn", date(2026, 6, 9), "Nhầm học sinh").startswith(
        "Phiên bản 2 đã bị thu hồi ngày 09/06/2026"
    )


def test_tokens_name_their_school_and_a_tampered_one_is_refused():
    token = auth.mint(b"k", "thcs.nguyen-du")
    assert auth.school_of(b"k", f"Bearer {token}") == "thcs.nguyen-du"
    forged = token.replace(token.split(".")[1], auth.mint(b"k", "other").split(".")[1])
    for header in (None, "", token, f"Bearer {token}x", f"Bearer {forged}", f"Basic {token}"):
        with pytest.raises(errors.Unauthorized):
            auth.school_of(b"k", header)
    with pytest.raises(errors.Unauthorized):
        auth.school_of(b"another secret", f"Bearer {token}")


def test_fault_decisions_depend_only_on_the_seed():
    def sequence() -> list[object]:
        faults = Faults(seed=1)
        faults.configure(FaultConfig(error_rate=0.5, drop_rate=0.2, seed=42))
        return [faults.decide("/api/v1/records", "POST") for _ in range(50)]

    first, again = sequence(), sequence()
    assert first == again
    assert any(d.error_status for d in first) and any(d.drop for d in first)


def test_faults_never_touch_the_admin_endpoints():
    faults = Faults(seed=1)
    faults.configure(FaultConfig(error_rate=1, outage_seconds=0))
    assert faults.decide("/_admin/faults", "POST") == type(faults.decide("/_admin/x", "GET"))()
    assert faults.decide("/api/v1/records", "GET").outage


def test_stored_timestamps_are_read_as_vietnamese_calendar_days():
    from datetime import UTC, datetime

    from sandbox.gateway.clock import Clock, vn_day

    # 01:00 in Hà Nội on 3 June is still 2 June in UTC, the zone the database answers in.
    assert vn_day(datetime(2026, 6, 2, 18, 0, tzinfo=UTC)) == date(2026, 6, 3)
    clock = Clock(date(2026, 6, 30))
    assert clock.today() == date(2026, 6, 30)
    clock.set(date(2026, 6, 30), offset_days=1)
    assert clock.today() == date(2026, 7, 1)
