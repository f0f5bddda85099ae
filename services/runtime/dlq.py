"""Dead-letter queues for support staff: list, show, replay to the queue a DLQ belongs to, purge — each audited."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu import Connection, Exchange, Producer

from contracts.audit import AuditAction, AuditRecordedV1, dead_letter_id
from contracts.envelope import Envelope
from services.runtime.broker import Subscription
from services.runtime.handlers import HEADER_EXCEPTION, HEADER_FAILED_AT, HEADER_MESSAGE, HEADER_QUEUE
from services.runtime.outbox import exchange_of
from services.runtime.personal_data import scrub
from services.runtime.retry import HEADER_ATTEMPTS, attempts_made, history_of

HEADER_REPLAYS = "x-hocba-replay-count"
OPS_SOURCE = (
    "ops"  # the exchange `ops.events` carries operators' audit events (the audit service consumes it)
)


class UnknownDeadLetterQueue(ValueError):
    """A queue that is not ``<queue>.dlq`` of a subscription queue in the declared topology."""

    def __init__(self, queue: str) -> None:
        super().__init__(
            f"{queue!r} is not the dead-letter queue of any subscription queue in the declared topology"
        )
        self.queue = queue


class QueueNotDeclared(RuntimeError):
    """The queue a dead-letter queue belongs to does not exist on the broker (a replay would be lost)."""

    def __init__(self, queue: str) -> None:
        super().__init__(f"queue {queue!r} is not declared on the broker; run `hocba broker setup` first")
        self.queue = queue


def home_queue(dead_letter_queue: str, topology: Iterable[Subscription]) -> str:
    """The consumer queue ``dead_letter_queue`` belongs to: the subscription whose ``<queue>.dlq`` it is.

    Only the DLQ's name and the declared topology decide; nothing a message carries does.
    """
    for subscription in topology:
        if subscription.dead_letter_queue == dead_letter_queue:
            return subscription.queue
    raise UnknownDeadLetterQueue(dead_letter_queue)


@dataclass(frozen=True)
class DeadLetter:
    delivery_tag: int
    message_id: str | None
    failed_queue: str | None
    reason: str
    detail: str
    failed_at: datetime | None
    replays: int
    headers: dict[str, Any]
    body: Any
    attempts: int = 0  # attempts the handler made (transient failures retried, then the last one)
    history: list[dict[str, str]] = field(default_factory=list)  # each attempt: attempt, at, error, detail

    def masked_body(self) -> Any:
        return scrub(self.body)


@dataclass
class QueueSummary:
    queue: str
    count: int
    oldest: datetime | None = None
    reasons: Counter[str] = field(default_factory=Counter)


def _failed_at(headers: dict[str, Any]) -> datetime | None:
    if headers.get(HEADER_FAILED_AT):
        return datetime.fromisoformat(str(headers[HEADER_FAILED_AT]))
    deaths = headers.get("x-death") or []
    if deaths and deaths[0].get("time"):
        moment = deaths[0]["time"]
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _parse(message: Any) -> DeadLetter:
    headers = dict(message.headers or {})
    deaths = headers.get("x-death") or []
    failed_queue = headers.get(HEADER_QUEUE) or (deaths[0].get("queue") if deaths else None)
    reason = headers.get(HEADER_EXCEPTION) or (f"broker: {deaths[0].get('reason')}" if deaths else "unknown")
    raw = message.body.decode() if isinstance(message.body, bytes) else message.body
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        body = raw
    return DeadLetter(
        delivery_tag=message.delivery_tag,
        message_id=message.properties.get("message_id"),
        failed_queue=failed_queue,
        reason=str(reason).rsplit(".", 1)[-1] if HEADER_EXCEPTION in headers else str(reason),
        detail=str(headers.get(HEADER_MESSAGE, "")),
        failed_at=_failed_at(headers),
        replays=int(headers.get(HEADER_REPLAYS, 0)),
        headers=headers,
        body=body,
        attempts=attempts_made(headers),
        history=history_of(headers),
    )


@contextmanager
def browsing(amqp_uri: str, queue: str) -> Iterator[tuple[Any, list[tuple[Any, DeadLetter]]]]:
    """Take every message of ``queue`` without acking; whatever is not acked goes back when the channel closes."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        taken = []
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            taken.append((message, _parse(message)))
        try:
            yield channel, taken
        finally:
            channel.close()  # unacked messages return to the queue, in their order


def summarise(amqp_uri: str, queues: Iterable[str]) -> list[QueueSummary]:
    summaries = []
    for queue in queues:
        with browsing(amqp_uri, queue) as (_, taken):
            summary = QueueSummary(queue, len(taken))
            for _, letter in taken:
                summary.reasons[letter.reason] += 1
                if letter.failed_at and (summary.oldest is None or letter.failed_at < summary.oldest):
                    summary.oldest = letter.failed_at
        summaries.append(summary)
    return summaries


def show(amqp_uri: str, queue: str, limit: int) -> list[DeadLetter]:
    with browsing(amqp_uri, queue) as (_, taken):
        return [letter for _, letter in taken[:limit]]


@dataclass
class ReplayResult:
    target: str = ""  # the queue the DLQ belongs to: every replayed message went there
    replayed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # failed too often: needs --force
    # Left in the DLQ: the message says it failed in another queue (label, the queue it names).
    misplaced: list[tuple[str, str]] = field(default_factory=list)


def _require_declared(amqp_uri: str, queue: str) -> None:
    # A publish to a missing queue is confirmed and dropped: the dead letter would be acked and lost.
    with Connection(amqp_uri) as conn:
        try:
            conn.default_channel.queue_declare(queue=queue, passive=True)
        except conn.channel_errors as error:
            raise QueueNotDeclared(queue) from error


def replay(
    amqp_uri: str,
    queue: str,
    *,
    topology: Collection[Subscription],
    message_id: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    max_replays: int = 3,
    actor: str,
    audit: Callable[[AuditRecordedV1], None] | None = None,
) -> ReplayResult:
    """Republish the messages of dead-letter queue ``queue`` to the one queue it belongs to (not its exchange:
    other subscribers already have the event).

    The target comes from ``queue``'s name and ``topology`` (see :func:`home_queue`), never from a message: the
    failed-queue header is written by whoever published the dead letter, and anyone who can publish to the
    dead-letter exchange could otherwise aim a routine ``replay --all`` at any consumer queue. The header may
    only stop a replay: a message naming another queue did not fail here (planted or misrouted), so it stays in
    the DLQ, reported in ``misplaced``, for a person to look at rather than being fed to a consumer.

    Raises :class:`UnknownDeadLetterQueue` for a queue outside the topology and :class:`QueueNotDeclared` when
    the target does not exist on the broker.
    """
    target = home_queue(queue, topology)
    _require_declared(amqp_uri, target)
    result = ReplayResult(target=target)
    with browsing(amqp_uri, queue) as (channel, taken):
        producer = Producer(channel)
        for message, letter in taken:
            if message_id is not None and letter.message_id != message_id:
                continue
            label = letter.message_id or f"tag {letter.delivery_tag}"
            if letter.failed_queue and letter.failed_queue != target:
                result.misplaced.append((label, str(letter.failed_queue)))
                continue
            if letter.replays >= max_replays and not force:
                result.refused.append(label)
                continue
            result.replayed.append(label)
            if dry_run:
                continue
            if audit is not None:
                audit(
                    _audit_event(
                        actor,
                        AuditAction.DLQ_REPLAY,
                        queue,
                        label,
                        {"to": target, "replay": str(letter.replays + 1)},
                    )
                )
            # A replay starts a fresh retry budget (the fix is in); the history of the earlier attempts stays.
            headers = {
                k: v
                for k, v in letter.headers.items()
                if k not in ("x-death", HEADER_ATTEMPTS) and not k.startswith("x-first-death")
            }
            headers[HEADER_REPLAYS] = letter.replays + 1
            producer.publish(
                message.body,
                exchange="",
                routing_key=target,
                headers=headers,
                content_type=message.properties.get("content_type"),
                content_encoding=message.properties.get("content_encoding"),
                delivery_mode=2,
                mandatory=True,
                message_id=letter.message_id,
            )
            # Acked only after the broker confirmed the republish: a crash duplicates, never loses.
            channel.basic_ack(letter.delivery_tag)
    return result


def purge_older_than(
    amqp_uri: str,
    queue: str,
    age: timedelta,
    *,
    topology: Collection[Subscription],
    actor: str,
    audit: Callable[[AuditRecordedV1], None] | None = None,
) -> int:
    """Delete the dead letters of ``queue`` that failed before ``age`` ago; only a DLQ of the topology (a live
    consumer queue is never purged through here)."""
    home_queue(queue, topology)
    cutoff = datetime.now(UTC) - age
    with browsing(amqp_uri, queue) as (channel, taken):
        doomed = [
            (m, letter) for m, letter in taken if letter.failed_at is not None and letter.failed_at < cutoff
        ]
        if doomed and audit is not None:
            audit(
                _audit_event(
                    actor,
                    AuditAction.DLQ_PURGE,
                    queue,
                    queue,
                    {"deleted": str(len(doomed)), "older_than": str(age)},
                )
            )
        for _, letter in doomed:
            channel.basic_ack(letter.delivery_tag)
    return len(doomed)


def _audit_event(
    actor: str, action: AuditAction, queue: str, entity: str, changes: dict[str, str]
) -> AuditRecordedV1:
    return AuditRecordedV1.of(
        action,
        service=OPS_SOURCE,
        entity=dead_letter_id(queue, entity),
        actor=actor,
        role="operator",
        school_id=None,
        changes=changes,
    )


def broker_audit(amqp_uri: str) -> Callable[[AuditRecordedV1], None]:
    """Publish operators' audit events (confirmed) to `ops.events`, before the action they describe.

    There is no database transaction to share with a broker operation, so the event goes first: an action that
    then fails leaves an audit entry for an attempt, never an action without one.
    """
    exchange = Exchange(exchange_of(OPS_SOURCE), type="topic", durable=True)

    def publish(event: AuditRecordedV1) -> None:
        envelope = Envelope.wrap(event, source_service=OPS_SOURCE, subject=event.entity_id)
        with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
            Producer(conn.default_channel).publish(
                envelope.wire(),
                exchange=exchange,
                routing_key=event.routing_key(),
                declare=[exchange],
                delivery_mode=2,
                message_id=str(envelope.id),
                serializer="json",
            )

    return publish


def parse_age(text: str) -> timedelta:
    """'7d', '12h', '30m' → a timedelta; ValueError names the accepted forms."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"age must look like 7d, 12h or 30m, got {text!r}")
    return timedelta(**{units[text[-1]]: int(text[:-1])})
