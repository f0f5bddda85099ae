"""Vietnam's calendar: every calendar-day rule (reporting cutoffs, effective dates, days left, readiness) counts
days in Asia/Ho_Chi_Minh, as the province's gateway does. Storage and logs stay UTC; only the day is local.

Between 00:00 and 07:00 Vietnam time the UTC date is still yesterday's: a UTC "today" let sync submit and withdraw
for seven hours after the 30 June cutoff had passed for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from services.runtime.settings import Settings

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_today(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> date:
    """The calendar day in Vietnam at the moment ``clock`` gives (an aware datetime)."""
    return clock().astimezone(VIETNAM).date()


def reporting_day(
    settings: Settings, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Callable[[], date]:
    """The day reporting cutoffs are counted on: Vietnam's calendar day, or the fixed day a rehearsal sets
    (``HOCBA_REPORTING_DAY``: the demo and the tests run a 2025–2026 year as if before its 30 June)."""
    fixed = settings.reporting_day
    return lambda: fixed or vietnam_today(clock)
