"""Sync's pure rules: cutoffs, what a gateway answer means, backoff, the breaker, reconciliation repairs."""

import random
from dataclasses import dataclass
from datetime import date

import pytest

from services.sync.domain.breaker import CircuitBreaker
from services.sync.domain.errors import CutoffPassed
from services.sync.domain.reconcile import differences
from services.sync.domain.rules import Backoff, assessment_of, check_before_cutoff, classify, cutoff_for


def test_cutoffs_are_30_june_and_15_august_of_the_years_end():
    assert cutoff_for("2025-2026", "regular") == date(2026, 6, 30)
    assert cutoff_for("2025-2026", "supplementary") == date(2026, 8, 15)
    assert cutoff_for("2025-2026", "regular", {"regular": "07-05", "supplementary": "08-20"}) == date(
        2026, 7, 5
    )
    assert assessment_of(3, "supplementary") == "supplementary"
    assert assessment_of(8, "supplementary") == "supplementary"  # a re-test or summer training
    assert assessment_of(5, "supplementary") == "regular"  # grade 5 has no 15 August path
    assert assessment_of(8, "regular") == "regular"


def test_after_the_cutoff_the_refusal_names_the_date_in_vietnamese():
    check_before_cutoff(date(2026, 6, 30), date(2026, 6, 30), "thu hồi bản ghi")  # the day itself is allowed
    with pytest.raises(CutoffPassed) as refused:
        check_before_cutoff(date(2026, 7, 1), date(2026, 6, 30), "thu hồi bản ghi")
    assert "30/06/2026" in refused.value.detail_vi and "thu hồi" in refused.value.detail_vi


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (201, None, "accepted"),
        (None, None, "transient"),
        (500, None, "transient"),
        (503, None, "transient"),
        (429, None, "transient"),
        (401, "unauthorized", "transient"),
        (409, "duplicate_record", "already_there"),
        (422, "signature_invalid", "rejected"),
        (409, "cutoff_passed", "rejected"),
    ],
)
def test_a_gateway_answer_is_final_only_when_retrying_cannot_change_it(status, reason, outcome):
    assert classify(status, reason) == outcome


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    backoff = Backoff(base=1.0, cap=60.0)
    delays = [backoff.delay(n, rng) for n in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0 and 4 <= delays[3] <= 8
    assert all(d <= 60 for d in delays) and delays[-1] >= 30
    assert len({round(backoff.delay(3, rng), 6) for _ in range(20)}) > 10  # jitter spreads the retries


def test_the_breaker_opens_after_failures_then_lets_one_probe_through():
    breaker = CircuitBreaker(failures_to_open=3, cool_down=10)
    for t in range(3):
        assert breaker.allow(t)
        breaker.failed(t)
    assert breaker.state == "open" and not breaker.allow(5)
    assert breaker.allow(13) and breaker.state == "half_open"
    assert not breaker.allow(13.1)  # one probe at a time
    breaker.failed(14)
    assert breaker.state == "open" and not breaker.allow(20)
    assert breaker.allow(24.5)
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow(25) and breaker.allow(25)
    breaker.failed(26)
    breaker.release()
    assert breaker.state == "closed"


@dataclass(frozen=True)
class Ours:
    """What reconciliation reads of one of our submissions (domain/reconcile.py Reported)."""

    year_record_id: str
    version: int
    status: str


def test_reconciliation_repairs_an_acceptance_we_never_heard_of_and_a_record_the_gateway_lost():
    ours = [
        Ours("a", 1, "pending"),
        Ours("b", 1, "accepted"),
        Ours("c", 1, "accepted"),
        Ours("d", 2, "accepted"),
    ]
    theirs = [
        {"id": "g-a", "year_record_id": "a", "version": 1, "status": "current"},
        {"id": "g-c", "year_record_id": "c", "version": 1, "status": "withdrawn"},
        {"id": "g-d", "year_record_id": "d", "version": 2, "status": "effective"},
    ]
    found = {(d.year_record_id, d.repair, d.gateway_record_id) for d in differences(ours, theirs)}
    assert found == {("a", "mark_accepted", "g-a"), ("b", "resubmit", None), ("c", "mark_withdrawn", "g-c")}
