"""Faults switchable at run time (latency, 5xx, dropped connections, accept-then-timeout, outages), seeded.

Why a real socket drop: the sync service must survive a gateway that closes the connection without answering,
and one that stores a record and then never answers — the case that makes idempotency keys necessary.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FaultConfig(BaseModel):
    """What /_admin/faults accepts (every field optional; an empty body switches every fault off)."""

    model_config = ConfigDict(extra="forbid")

    scope: str = Field("/api/", description="Path prefix the per-request faults apply to")
    latency_ms: int = Field(0, ge=0, le=120_000, description="Added before handling each request")
    latency_jitter_ms: int = Field(0, ge=0, le=120_000, description="Plus a seeded uniform 0..jitter")
    error_rate: float = Field(0.0, ge=0, le=1, description="Share of requests answered 5xx before handling")
    error_statuses: list[int] = Field([500, 502, 503], description="Picked from, seeded")
    drop_rate: float = Field(
        0.0, ge=0, le=1, description="Share of requests whose socket is closed, no answer"
    )
    accept_timeout_rate: float = Field(
        0.0, ge=0, le=1, description="Share of successful POSTs committed, then left unanswered"
    )
    accept_timeout_mode: Literal["hang", "drop"] = Field(
        "hang", description="hang: wait hang_seconds then close; drop: close at once after commit"
    )
    hang_seconds: float = Field(30.0, ge=0, le=600)
    outage_seconds: float | None = Field(
        None, ge=0, description="Every request (but /_admin/) fails for this long; 0 = until switched off"
    )
    outage_mode: Literal["error", "drop"] = Field(
        "error", description="error: 503 problem; drop: close socket"
    )
    seed: int | None = Field(None, description="Reseed the generator (reproducible sequences)")
    fail_next: list[Literal["error", "drop", "accept_timeout"]] = Field(
        [],
        max_length=100,
        description="The next submissions (POST to fail_next_path) fail this way, one each, in order; then the rates"
        " apply again. Counted by the work that arrives, not by the clock: a test that sets it knows every fault will"
        " meet a submission",
    )
    fail_next_path: str = Field("/api/v1/records", description="The path fail_next counts submissions on")


@dataclass(frozen=True)
class Decision:
    """What to do with one request, decided up front so that the sequence depends only on the seed."""

    latency_s: float = 0.0
    outage: bool = False
    error_status: int | None = None
    drop: bool = False
    accept_timeout: bool = False


class Faults:
    """Holds the current configuration, the seeded generator and counts of injected faults."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self.config = FaultConfig()
        self._outage_until: float | None = None  # monotonic deadline; inf = until switched off
        self.injected: Counter[str] = Counter()
        self._fail_next: list[str] = []

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._fail_next = list(config.fail_next)
            if config.seed is not None:
                self._seed = config.seed
                self._rng = random.Random(config.seed)
            if config.outage_seconds is None:
                self._outage_until = None
            elif config.outage_seconds == 0:
                self._outage_until = float("inf")
            else:
                self._outage_until = time.monotonic() + config.outage_seconds

    def outage_left(self) -> float | None:
        with self._lock:
            if self._outage_until is None or time.monotonic() >= self._outage_until:
                return None
            return self._outage_until - time.monotonic()

    def decide(self, path: str, method: str) -> Decision:
        if path.startswith("/_admin/"):
            return Decision()
        if self.outage_left() is not None:
            self._count("outage")
            return Decision(outage=True)
        with self._lock:
            config = self.config
            if not path.startswith(config.scope):
                return Decision()
            # Always draw the same number of values, so one fault's rate never shifts another's sequence.
            jitter, error_draw, pick, drop_draw, timeout_draw = (self._rng.random() for _ in range(5))
            planned = (
                self._fail_next.pop(0)
                if self._fail_next and method == "POST" and path == config.fail_next_path
                else None
            )
        if planned == "drop":
            self._count("drop")
            return Decision(drop=True)
        if planned == "error":
            self._count("error")
            return Decision(error_status=config.error_statuses[int(pick * len(config.error_statuses))])
        if planned == "accept_timeout":
            return Decision(accept_timeout=True)
        latency = (config.latency_ms + jitter * config.latency_jitter_ms) / 1000
        if latency:
            self._count("latency")
        if drop_draw < config.drop_rate:
            self._count("drop")
            return Decision(latency_s=latency, drop=True)
        if error_draw < config.error_rate:
            self._count("error")
            status = config.error_statuses[int(pick * len(config.error_statuses))]
            return Decision(latency_s=latency, error_status=status)
        accept_timeout = method == "POST" and timeout_draw < config.accept_timeout_rate
        return Decision(latency_s=latency, accept_timeout=accept_timeout)

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def count(self, kind: str) -> None:
        self._count(kind)

    def describe(self) -> dict[str, Any]:
        left = self.outage_left()
        return {
            "config": self.config.model_dump(),
            "seed": self._seed,
            "outage_active": left is not None,
            "outage_seconds_left": None if left in (None, float("inf")) else round(left or 0, 3),
            "injected": dict(self.injected),
            "fail_next_left": len(self._fail_next),
        }


def drop_connection(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Close the client's socket without a byte of response (what a crashed proxy or a reset looks like).

    The status is still handed to the server, so that its write fails on the closed socket — which Werkzeug
    treats as a client that went away (quietly) — and its access log shows 599 for the dropped request.
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:  # None under a test client: nothing to drop
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    start_response("599 Connection Dropped By Fault Injection", [("Content-Length", "0")])
    return []
