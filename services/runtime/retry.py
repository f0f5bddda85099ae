"""Retry through the broker: a transient failure waits in ``<queue>.retry`` and the broker puts it back in ``<queue>``.

The design, and why:

- **One delay queue per consumer queue, per-message TTL** (``expiration``), not tiers. The delay queue has no
  consumer: when a message's TTL runs out RabbitMQ dead-letters it through the default exchange back into
  ``<queue>``, where the reliable handler takes it like a `hocba dlq replay` (exchange ``""``). RabbitMQ expires
  per-message TTLs only at the head of a queue, so a short delay can wait behind a longer one (head-of-line
  blocking). That only ever makes a retry *later*, never earlier, and by at most the cap: everything ahead was
  queued earlier with a delay of at most the cap. During an outage the queue holds mostly first and second attempts
  in the order they failed, so the wait is close to the backoff anyway. Tiers (a queue per attempt) would remove
  the blocking at the cost of N queues per consumer queue, each one the administrator must create (below), in the
  topology, the grants and the Kubernetes objects; a late retry is not worth that.
- **The delay queue's dead-lettering is a queue argument, not a policy** (unlike ``<queue>`` itself, whose DLX
  lives in a policy because nameko redeclares it without arguments): nothing redeclares it differently, and a
  delay queue without its routing back would silently drop every retry when its TTL ran out.
- **The administrator creates it** (`hocba broker setup`, the Topology Operator): RabbitMQ lets a user *create* a
  queue whose dead-letter exchange is the default one only with write on ``amq.default``, which would let a
  service publish straight into any queue. A service's own user may redeclare its existing delay queues and bind
  them to its own dead-letter exchange, and it publishes there (never to the default exchange).
- **Bounded**: ``x-hocba-attempts`` counts the attempts made; after ``retry_attempts`` the message goes to
  ``<queue>.dlq`` like a permanent failure, with ``x-hocba-history`` (each attempt's time, exception class and
  scrubbed message) for `hocba dlq show`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from kombu import Exchange, Queue

from services.runtime.personal_data import scrub_text
from services.runtime.queues import QueueType, platform_queue

HEADER_ATTEMPTS = "x-hocba-attempts"
HEADER_HISTORY = "x-hocba-history"
# The last attempts kept in the history: a message replayed from the DLQ again and again must not grow without end.
HISTORY_KEPT = 20
DETAIL_CHARS = 200


def retry_queue_name(queue: str) -> str:
    return f"{queue}.retry"


def retry_queue_arguments(queue: str) -> dict[str, str]:
    """What expires in ``queue``'s retry queue goes back to ``queue``, through the default exchange."""
    return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue}


def retry_queue(queue: str, exchange: Exchange, queue_type: QueueType) -> Queue:
    """``<queue>.retry``, of the platform's queue type, bound to the service's dead-letter exchange by its own name;
    what expires there goes back to ``queue`` through the default exchange (per-message TTL in a quorum queue:
    RabbitMQ 3.10 and later). Declared the same way by `broker setup` and by the handler."""
    name = retry_queue_name(queue)
    return platform_queue(name, queue_type, exchange, name, retry_queue_arguments(queue))


def backoff_seconds(
    attempt: int, base: float, cap: float, jitter: Callable[[], float] = random.random
) -> float:
    """How long to wait after failed attempt ``attempt`` (1 for the first): base × 2^(attempt-1), plus up to a
    quarter of that at random (so a thousand messages failed together do not come back together), at most ``cap``."""
    return min(cap, base * 2 ** (attempt - 1) * (1 + 0.25 * jitter()))


def attempts_made(headers: Mapping[str, Any] | None) -> int:
    """Attempts at this message that failed transiently so far (0 for a first delivery, or a replay)."""
    try:
        return max(0, int((headers or {}).get(HEADER_ATTEMPTS, 0)))
    except (TypeError, ValueError):
        return 0  # whatever a publisher wrote there, it is not a count we made


def history_of(headers: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The attempts recorded in the headers, each a dict of text (a malformed entry is dropped)."""
    entries = (headers or {}).get(HEADER_HISTORY) or []
    if not isinstance(entries, list | tuple):
        return []
    return [{str(k): str(v) for k, v in e.items()} for e in entries if isinstance(e, Mapping)]


def with_attempt(
    headers: Mapping[str, Any] | None, attempt: int, error: BaseException, now: datetime | None = None
) -> dict[str, Any]:
    """``headers`` with failed attempt ``attempt`` counted and added to the history (exception text scrubbed)."""
    entry = {
        "attempt": str(attempt),
        "at": (now or datetime.now(UTC)).isoformat(),
        "error": f"{type(error).__module__}.{type(error).__qualname__}",
        "detail": scrub_text(str(error))[:DETAIL_CHARS],
    }
    return {
        **(headers or {}),
        HEADER_ATTEMPTS: attempt,
        HEADER_HISTORY: [*history_of(headers), entry][-HISTORY_KEPT:],
    }
