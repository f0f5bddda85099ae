"""The portal's per-client limit on wrong birth dates: a moving window kept in memory by the ``limits`` library."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class FailureLimit:
    """``failures`` wrong answers per ``seconds`` per client; the next attempt inside the window is refused.

    In memory, per process: one gateway process serves the portal here. Behind several replicas it would move to
    a shared storage (``limits`` has Redis and Memcached ones) without changing the callers.
    """

    def __init__(self, failures: int, seconds: int) -> None:
        self.failures = failures
        self.seconds = seconds
        self._item = RateLimitItemPerSecond(failures, seconds)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it may try now."""
        if self._limiter.test(self._item, client):
            return None
        reset = self._limiter.get_window_stats(self._item, client).reset_time
        return max(1, math.ceil(reset - time.time()))

    def fail(self, client: str) -> int:
        """Count a wrong answer; returns how many ``client`` has left in the window."""
        self._limiter.hit(self._item, client)
        return self._limiter.get_window_stats(self._item, client).remaining
