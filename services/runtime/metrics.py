"""Prometheus metrics every service and relay exports: handled, failed, dead-lettered, outbox lag."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_HANDLED = Counter("hocba_events_handled_total", "Events handled successfully", ["service", "queue"])
EVENTS_DUPLICATE = Counter(
    "hocba_events_duplicate_total", "Redelivered events the inbox skipped", ["service", "consumer"]
)
EVENTS_FAILED = Counter(
    "hocba_events_failed_total", "Handler runs that raised", ["service", "queue", "error"]
)
EVENTS_RETRIED = Counter(
    "hocba_events_retried_total",
    "Transient handler failures sent to the retry queue, to be tried again",
    ["service", "queue", "error"],
)
EVENTS_DEAD_LETTERED = Counter(
    "hocba_events_dead_lettered_total", "Messages moved to a dead-letter queue", ["service", "queue"]
)
HANDLER_SECONDS = Histogram("hocba_handler_seconds", "Event handler duration", ["service", "queue"])
TIMER_RUNS = Counter("hocba_timer_runs_total", "Finished runs of a periodic task", ["service", "timer"])
HTTP_REQUESTS = Counter("hocba_http_requests_total", "HTTP requests", ["service", "endpoint", "status"])
OUTBOX_PUBLISHED = Counter("hocba_outbox_published_total", "Outbox rows published and confirmed", ["service"])
OUTBOX_PENDING = Gauge("hocba_outbox_pending", "Unpublished outbox rows", ["service"])
OUTBOX_PARKED = Gauge(
    "hocba_outbox_parked",
    "Outbox rows the broker refused PARK_AFTER times, set aside unpublished until an operator releases them",
    ["service"],
)
QUEUE_DEPTH = Gauge(
    "hocba_queue_depth",
    "Ready messages in a consumer queue, as the service last saw it",
    ["service", "queue"],
)
SEALS_STUCK = Gauge("hocba_seals_stuck", "Records whose seal failed three times or more and still waits")
OUTBOX_LAG = Gauge("hocba_outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"])
