"""The gateway's clock: real time, or a fixed day / an offset set through /_admin/clock so tests can cross cutoffs."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

# The province's cutoffs are Vietnamese calendar days.
VN = timezone(timedelta(hours=7), "ICT")


class Clock:
    """Thread-safe; ``today`` and ``now`` agree (a fixed day keeps the real time of day, for ordering)."""

    def __init__(self, fixed_day: date | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed_day = fixed_day
        self._offset = timedelta()

    def set(self, fixed_day: date | None = None, offset_days: int = 0) -> None:
        with self._lock:
            self._fixed_day = fixed_day
            self._offset = timedelta(days=offset_days)

    def now(self) -> datetime:
        with self._lock:
            fixed, offset = self._fixed_day, self._offset
        real = datetime.now(VN)
        if fixed is not None:
            real = datetime.combine(fixed, real.timetz())
        return real + offset

    def today(self) -> date:
        return self.now().date()

    def describe(self) -> dict[str, object]:
        with self._lock:
            fixed, offset = self._fixed_day, self._offset
        return {
            "today": self.today().isoformat(),
            "now": self.now().astimezone(UTC).isoformat(),
            "fixed_day": fixed.isoformat() if fixed else None,
            "offset_days": offset.days,
            "timezone": "UTC+07:00",
        }


def vn(moment: datetime) -> datetime:
    """A stored timestamp as the province reads it (the database hands them back in its own zone, UTC)."""
    return moment.astimezone(VN)


def vn_day(moment: datetime) -> date:
    return vn(moment).date()
