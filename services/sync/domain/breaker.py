"""A circuit breaker for the province gateway: during an outage, stop sending and probe now and then."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    """``failures_to_open`` consecutive transient failures open it; after ``cool_down`` seconds one probe may go;
    its success closes the breaker, its failure opens it again. Time is passed in (pure, testable)."""

    failures_to_open: int = 5
    cool_down: float = 15.0
    state: State = "closed"
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = field(default=False)

    def allow(self, now: float) -> bool:
        if self.state == "closed":
            return True
        if self.state == "open" and now - self.opened_at >= self.cool_down:
            self.state, self.probing = "half_open", False
        if self.state == "half_open" and not self.probing:
            self.probing = True
            return True
        return False

    def release(self) -> None:
        """The probe allowed by ``allow`` was not sent after all."""
        self.probing = False

    def succeeded(self) -> None:
        self.state, self.failures, self.probing = "closed", 0, False

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.failures_to_open:
            self.state, self.opened_at, self.probing = "open", now, False
