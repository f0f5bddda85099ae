"""The reliable event handler: each event consumed once (`consume`); a transient failure tried again later through
`<queue>.retry` (`services.runtime.retry`), any other failure, or one that outlasts its budget, to `<queue>.dlq`."""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Exchange, Queue
from kombu.pools import producers
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from pydantic import ValidationError

from contracts.envelope import Envelope, EventModel, parse_envelope
from services.runtime import metrics
from services.runtime.consume import handle_once
from services.runtime.failures import is_transient
from services.runtime.logging import correlation, get_logger
from services.runtime.personal_data import scrub_text
from services.runtime.queues import platform_queue, with_type
from services.runtime.retry import attempts_made, backoff_seconds, retry_queue, with_attempt
from services.runtime.settings import get_settings
from services.runtime.wiring import container_settings

log = get_logger(__name__)

HEADER_QUEUE = "x-hocba-failed-queue"
HEADER_EXCEPTION = "x-hocba-exception"
HEADER_MESSAGE = "x-hocba-exception-message"
HEADER_FAILED_AT = "x-hocba-failed-at"
HEADER_EXCHANGE = "x-hocba-original-exchange"
HEADER_ROUTING_KEY = "x-hocba-original-routing-key"
HEADER_SERVICE = "x-hocba-service"


@dataclass
class BrokerLink:
    """The consumer connection's state, for liveness: a pod whose broker link stays dead gets restarted."""

    connected: bool = False
    since: float = field(default_factory=time.monotonic)

    def down_for(self) -> float:
        return 0.0 if self.connected else time.monotonic() - self.since


# Per service name (one container per process in production).
broker_links: dict[str, BrokerLink] = {}


class MonitoredQueueConsumer(QueueConsumer):
    """nameko's queue consumer, recording when kombu (re)connects and when reconnecting fails."""

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        super().on_consume_ready(connection, channel, consumers, **kwargs)
        broker_links[self.container.service_name] = BrokerLink(connected=True)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        super().on_connection_error(exc, interval)
        link = broker_links.get(self.container.service_name)
        if link is None or link.connected:
            broker_links[self.container.service_name] = BrokerLink(connected=False)


class WrongSource(Exception):
    """A message that reached a subscription's queue through another exchange than its source's ``<source>.events``
    (a binding someone added by hand): it is not an event of the source, whatever its body says. Permanent."""

    def __init__(self, queue: str, exchange: str, expected: str) -> None:
        super().__init__(f"{queue} takes events from {expected!r} only; this one came from {exchange!r}")
        self.queue = queue
        self.exchange = exchange
        self.expected = expected


def _record_origin(headers: dict[str, Any], message: Any) -> None:
    """The exchange and routing key the message came in by, or, for one that came back through the default exchange
    (a retry, a replay), those recorded when it first failed."""
    exchange = message.delivery_info.get("exchange", "")
    if exchange or HEADER_EXCHANGE not in headers:
        headers[HEADER_EXCHANGE] = exchange
        headers[HEADER_ROUTING_KEY] = message.delivery_info.get("routing_key", "")


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue}.dlq"


def dead_letter_exchange_name(base: str, service: str) -> str:
    """Each service dead-letters into an exchange of its own (``hocba.dlx.<service>``), so the broker user that
    may publish there reaches no other service's DLQ."""
    return f"{base}.{service}"


def dead_letter_exchange(service: str) -> Exchange:
    return Exchange(
        dead_letter_exchange_name(get_settings().dead_letter_exchange, service), type="direct", durable=True
    )


class ReliableEventHandler(EventHandler):
    """nameko's EventHandler acks a failed handler's message and loses it; this one retries or dead-letters it.

    A transient failure (:func:`~services.runtime.failures.is_transient`: a database or broker link lost, a
    serialization failure, a dependency that timed out, a service error marked ``transient``) is republished to
    ``<queue>.retry`` with a growing per-message TTL, after which the broker returns it to ``<queue>`` (see
    :mod:`services.runtime.retry`); ``x-hocba-attempts`` and ``x-hocba-history`` record each attempt. Any other
    failure, or the attempt that uses up the budget (``retry_attempts`` in the settings), is republished with the
    exception class and message in headers to the dead-letter exchange for ``<queue>.dlq``. Either republish uses
    publisher confirms and mandatory routing through the service's own dead-letter exchange, and the message is
    acked only once that is confirmed. If a retry cannot be published, the message is dead-lettered instead; if
    that fails too, it is rejected without requeue, so the queue's dead-letter policy still routes it. Bodies that
    do not parse as the declared contract are dead-lettered without running the handler.

    This is the transport only: services consume through :func:`reliable_handler`, which adds the inbox claim and
    the unit of work (``consumes=True``). Used bare, ``ReliableEventHandler.decorator(source, model)`` hands the
    method the envelope alone, for probes that keep no state (the broker's own tests).
    """

    queue_consumer = MonitoredQueueConsumer()

    def __init__(
        self, source_service: str, event_model: type[EventModel], *, consumes: bool = False, **kwargs: Any
    ) -> None:
        self.event_model = event_model
        self.consumes = consumes
        kwargs.setdefault("requeue_on_error", False)
        super().__init__(source_service, event_model.routing_key(), **kwargs)

    def setup(self) -> None:
        super().setup()
        settings = container_settings(self.container.config)
        # nameko built the consumer queue (SERVICE_POOL: durable, neither exclusive nor auto-delete) and declares it
        # whenever its consumer (re)connects: with the same type as `broker setup` gave it, or RabbitMQ refuses it.
        with_type(self.queue, settings.queue_type)
        self._service = self.container.service_name
        if self.consumes and not callable(getattr(self.container.service_cls, "unit_of_work", None)):
            # At start-up, not on the first event: `reliable_handler` opens the service's unit of work.
            raise TypeError(
                f"{self._service} consumes events but defines no unit_of_work(correlation_id=...)"
            )
        self._dlq = platform_queue(
            dead_letter_queue_name(self.queue.name),
            settings.queue_type,
            dead_letter_exchange(self._service),
            dead_letter_queue_name(self.queue.name),
        )
        # Declared here too (no arguments but its type) so a dead letter has somewhere to go before `broker setup`.
        with Connection(self.container.config["AMQP_URI"]) as conn:
            self._dlq.declare(channel=conn.default_channel)
        self._retry_attempts = settings.retry_attempts
        self._retry_base = settings.retry_base_seconds
        self._retry_cap = settings.retry_cap_seconds
        self._retry_queue: Queue | None = retry_queue(
            self.queue.name, dead_letter_exchange(self._service), settings.queue_type
        )
        # Redeclared and bound: its own user may do that once `broker setup` created it; only creating it takes the
        # administrator (it dead-letters through the default exchange). Without it, failures go to the DLQ at once.
        with Connection(self.container.config["AMQP_URI"]) as conn:
            try:
                self._retry_queue.declare(channel=conn.channel())
            except conn.channel_errors as error:
                log.error(
                    "retry_queue.unavailable",
                    queue=self._retry_queue.name,
                    error=repr(error),
                    hint="run `hocba broker setup`; until then transient failures are dead-lettered at once",
                )
                self._retry_queue = None

    def handle_message(self, body: Any, message: Any) -> None:
        # The source exchange, or the default one: that is how `hocba dlq replay` returns a dead letter to the
        # queue its DLQ belongs to, and how the broker returns a retry from `<queue>.retry`; no service's broker
        # user may publish there (no write on `amq.default`).
        exchange = message.delivery_info.get("exchange", "")
        if exchange not in (self.queue.exchange.name, ""):
            self._dead_letter(message, WrongSource(self.queue.name, exchange, self.queue.exchange.name))
            return
        try:
            envelope = parse_envelope(self.event_model, body)
        except ValidationError as error:
            self._dead_letter(message, error)
            return
        message._hocba_started = time.monotonic()
        super().handle_message(envelope, message)

    def handle_message_processed(self, message: Any, result: Any = None, exc_info: Any = None) -> None:
        queue = self.queue.name
        started = getattr(message, "_hocba_started", None)
        if started is not None:
            metrics.HANDLER_SECONDS.labels(self._service, queue).observe(time.monotonic() - started)
        if exc_info is None:
            metrics.EVENTS_HANDLED.labels(self._service, queue).inc()
            self.queue_consumer.ack_message(message)
            return
        error = exc_info[1]
        attempt = attempts_made(message.headers) + 1
        retry = self._retry_queue is not None and attempt < self._retry_attempts and is_transient(error)
        metrics.EVENTS_FAILED.labels(self._service, queue, type(error).__name__).inc()
        with correlation(event_id=message.properties.get("message_id")):
            # A broker or database blip fails many messages at once: those to be retried are a warning only.
            (log.warning if retry else log.error)(
                "handler.failed",
                queue=queue,
                error=type(error).__name__,
                attempt=attempt,
                retry=retry,
                detail=scrub_text(str(error))[:500],
                traceback="".join(traceback.format_exception(*exc_info))[-4000:],
            )
        if retry:
            self._retry(message, error, attempt)
        else:
            self._dead_letter(message, error)

    def _retry(self, message: Any, error: BaseException, attempt: int) -> None:
        """Republish to ``<queue>.retry`` to come back after the backoff; dead-letter if that cannot be done."""
        assert self._retry_queue is not None
        queue = self.queue.name
        delay = backoff_seconds(attempt, self._retry_base, self._retry_cap)
        headers = with_attempt(message.headers, attempt, error)
        _record_origin(headers, message)
        try:
            self._publish(message, self._retry_queue, headers, expiration=delay)
        except Exception as publish_error:  # noqa: BLE001 - never lose it: the DLQ, as before retries existed
            log.error("retry.publish_failed", queue=queue, error=repr(publish_error))
            self._dead_letter(message, error)
            return
        self.queue_consumer.ack_message(message)
        metrics.EVENTS_RETRIED.labels(self._service, queue, type(error).__name__).inc()
        log.warning(
            "handler.retrying",
            queue=queue,
            retry_queue=self._retry_queue.name,
            attempt=attempt,
            delay_seconds=round(delay, 3),
            error=type(error).__name__,
        )

    def _publish(self, message: Any, target: Queue, headers: dict[str, Any], **properties: Any) -> None:
        """``message``'s body to ``target`` through the service's dead-letter exchange, confirmed and mandatory."""
        conn = Connection(self.container.config["AMQP_URI"], transport_options={"confirm_publish": True})
        with producers[conn].acquire(block=True, timeout=10) as producer:
            producer.publish(
                message.body,
                exchange=target.exchange,
                routing_key=target.routing_key,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                headers=headers,
                delivery_mode=2,
                mandatory=True,
                message_id=message.properties.get("message_id"),
                declare=[target],
                retry=True,
                retry_policy={"max_retries": 3},
                **properties,
            )

    def _dead_letter(self, message: Any, error: BaseException) -> None:
        queue = self.queue.name
        # The last attempt joins the history: a transient failure that outlasted its budget shows every attempt.
        headers = with_attempt(message.headers, attempts_made(message.headers) + 1, error)
        headers.update(
            {
                HEADER_QUEUE: queue,
                HEADER_SERVICE: self._service,
                HEADER_EXCEPTION: f"{type(error).__module__}.{type(error).__qualname__}",
                # Exception text can quote a payload; personal ids are masked before it leaves the process.
                HEADER_MESSAGE: scrub_text(str(error))[:1000],
                HEADER_FAILED_AT: datetime.now(UTC).isoformat(),
            }
        )
        _record_origin(headers, message)
        try:
            self._publish(message, self._dlq, headers)
        except Exception as publish_error:  # noqa: BLE001 - fall back to the broker's dead-letter policy
            log.error("dead_letter.publish_failed", queue=queue, error=repr(publish_error))
            if message.channel.connection:
                message.reject(requeue=False)
        else:
            self.queue_consumer.ack_message(message)
        metrics.EVENTS_DEAD_LETTERED.labels(self._service, queue).inc()
        log.warning("handler.dead_lettered", queue=queue, dlq=self._dlq.name, error=type(error).__name__)


class EventSource(DependencyProvider):
    """Injects the service that emitted the event being handled, as the broker established it: the source of the
    reliable handler it came through, whose queue takes messages from ``<source>.events`` only (checked on each
    delivery), or back from its own DLQ. Never what the body claims. None outside an event handler."""

    def get_dependency(self, worker_ctx: Any) -> str | None:
        entrypoint = worker_ctx.entrypoint
        return entrypoint.source_service if isinstance(entrypoint, ReliableEventHandler) else None


Consumer = str | Callable[[Any], str | None]
"""The inbox name an entry point claims events under; or a function of the event giving it, None to ignore it."""


def reliable_handler(
    source_service: str, event_model: type[EventModel], *, consumer: Consumer, **kwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a service method to consume ``event_model`` events emitted by ``source_service``, exactly once.

    The runtime binds the event's ids to the log, opens the service's unit of work (``unit_of_work(correlation_id=…)``,
    a method every consuming service defines), claims the event in the inbox under ``consumer``, calls the method
    with the parsed :class:`~contracts.envelope.Envelope` (its ``data`` the event; id and time for the handlers
    that record them) and the open unit of work, and commits: the method holds only the service's logic. A
    redelivery skips it; if it raises, the claim rolls back with its writes and the message is dead-lettered.

    ``consumer`` is stored with each claim, so it must keep its exact spelling. It may be a function of the event
    where one entry point counts as several consumers (transcript's progress: one per status reported), and that
    function returns None for events the entry point ignores: those are acked without opening a transaction or
    claiming (nothing happened, so there is nothing to happen only once).

    The method is wrapped here, not in the entry point: nameko calls the service method itself, and only the
    wrapper runs on the service instance, where the injected database behind ``unit_of_work`` lives. Nor in a
    dependency provider: its worker hooks could open and commit a transaction around the method, but could not
    skip the method for a redelivery.
    """

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def consume(service: Any, envelope: Envelope[Any]) -> None:
            name = consumer if isinstance(consumer, str) else consumer(envelope.data)
            if name is None:
                return
            handle_once(envelope, name, service.unit_of_work, functools.partial(method, service))

        entrypoint: Callable[[Callable[..., Any]], Callable[..., Any]] = ReliableEventHandler.decorator(
            source_service, event_model, consumes=True, **kwargs
        )
        return entrypoint(consume)

    return decorate
