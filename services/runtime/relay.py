"""The outbox relay: publishes committed outbox rows with publisher confirms, in batches, then marks them sent."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import amqp
import kombu
from sqlalchemy import ColumnElement, Engine, Table, func, select, update

from services.runtime import metrics
from services.runtime.logging import get_logger

log = get_logger(__name__)


class PublishNotConfirmed(Exception):
    """The broker nacked a message, or did not confirm it in time: the batch stays unpublished and is retried."""


class MessageRefused(Exception):
    """The broker refused one of the batch's messages (it nacked it, or closed the channel over it: an exchange that
    does not exist or that this relay may not publish to, a message over the size limit): unlike a lost connection,
    something about the rows, so the relay finds which (``OutboxRelay``) instead of retrying the batch forever."""


# How many times a row the broker refuses on its own is tried before the relay parks it: it stays in the outbox,
# unpublished, with its reason (``last_error``), counted by hocba_outbox_parked and logged, while every other row
# goes on; `hocba outbox release` (an operator, once the cause is fixed) lets it be tried again.
PARK_AFTER = 5


def waiting_rows(t: Table) -> ColumnElement[bool]:
    """Outbox rows the relay is to publish: not yet published, and not parked."""
    return t.c.published_at.is_(None) & (t.c.attempts < PARK_AFTER)


def parked_rows(t: Table) -> ColumnElement[bool]:
    """Outbox rows set aside, unpublished, after the broker refused them PARK_AFTER times."""
    return t.c.published_at.is_(None) & (t.c.attempts >= PARK_AFTER)


@dataclass(frozen=True)
class OutgoingMessage:
    event_id: str
    exchange: str
    routing_key: str
    body: bytes
    headers: dict[str, Any]
    content_type: str = "application/json"


class ConfirmingPublisher:
    """Publishes a batch on one channel in confirm mode and waits once for all the acks.

    Waiting per message (kombu's ``confirm_publish``) costs a round trip each, about 1,000 msg/s here; a batch
    needs one wait for all of them, and a nack or timeout fails the whole batch (duplicates, never losses).
    """

    def __init__(
        self, amqp_uri: str, *, confirm_timeout: float = 30.0, declare_exchanges: bool = True
    ) -> None:
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        # False under a relay's own broker user: it may publish to the exchanges, not configure (or delete) them.
        self.declare_exchanges = declare_exchanges
        self._conn: kombu.Connection | None = None
        self._channel: Any = None
        self._declared: set[str] = set()
        self._next_tag = 0
        self._acked_upto = 0
        self._acked: set[int] = set()
        self._nacked: set[int] = set()

    def _ensure_channel(self) -> Any:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._conn = kombu.Connection(self.amqp_uri, heartbeat=0)
        self._conn.connect()
        channel = self._conn.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._channel, self._next_tag, self._acked_upto = channel, 0, 0
        self._acked, self._nacked, self._declared = set(), set(), set()
        return channel

    def _on_ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._acked_upto = max(self._acked_upto, tag)
        else:
            self._acked.add(tag)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked.add(tag)
        if multiple:
            self._nacked.update(range(self._acked_upto + 1, tag + 1))

    def _confirmed(self, tag: int) -> bool:
        return tag <= self._acked_upto or tag in self._acked

    def declare_topic_exchange(self, name: str) -> None:
        channel = self._ensure_channel()
        if self.declare_exchanges and name not in self._declared:
            # Same arguments as nameko's own declaration of `<service>.events`, so either may come first.
            channel.exchange_declare(name, "topic", durable=True, auto_delete=False)
            self._declared.add(name)

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        try:
            self._publish_batch(messages)
        except amqp.exceptions.ChannelError as error:
            # The broker closed the channel over a message (the connection is fine): a new channel next time.
            self.close()
            raise MessageRefused(f"{type(error).__name__}: {error}") from error

    def _publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        channel = self._ensure_channel()
        tags = []
        for message in messages:
            self.declare_topic_exchange(message.exchange)
            channel.basic_publish(
                amqp.Message(
                    message.body,
                    content_type=message.content_type,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=message.event_id,
                    application_headers=message.headers,
                ),
                exchange=message.exchange,
                routing_key=message.routing_key,
            )
            self._next_tag += 1
            tags.append(self._next_tag)
        deadline = time.monotonic() + self.confirm_timeout
        while not all(self._confirmed(t) or t in self._nacked for t in tags):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise PublishNotConfirmed(f"{len(tags)} messages not confirmed in {self.confirm_timeout}s")
            try:
                self._conn.drain_events(timeout=min(remaining, 1.0))  # type: ignore[union-attr]
            except TimeoutError:
                continue
        nacked = [t for t in tags if t in self._nacked]
        if nacked:
            raise MessageRefused(f"broker nacked {len(nacked)} of {len(tags)} messages")

    def close(self) -> None:
        if self._conn is not None:
            # Closing a broken connection must not hide the error that broke it.
            with contextlib.suppress(Exception):
                self._conn.release()
        self._conn, self._channel = None, None


def public_message(row: Any, public_exchange: str) -> OutgoingMessage:
    """CloudEvents AMQP binary mode for vendors: `ce-*` headers, the data alone as body."""
    envelope = row.body
    headers = {
        "ce-specversion": envelope["specversion"],
        "ce-id": envelope["id"],
        "ce-type": envelope["type"],
        "ce-source": envelope["source"],
        "ce-time": envelope["time"],
        "ce-schemaversion": str(envelope["schema_version"]),
    }
    if envelope.get("subject"):
        headers["ce-subject"] = envelope["subject"]
    return OutgoingMessage(
        event_id=str(row.event_id),
        exchange=public_exchange,
        routing_key=row.ce_type,
        body=json.dumps(row.public_data, ensure_ascii=False, separators=(",", ":")).encode(),
        headers=headers,
    )


def internal_message(row: Any) -> OutgoingMessage:
    """Structured mode for our own services: the whole envelope is the body nameko hands to handlers."""
    return OutgoingMessage(
        event_id=str(row.event_id),
        exchange=row.exchange,
        routing_key=row.routing_key,
        body=json.dumps(row.body, ensure_ascii=False, separators=(",", ":")).encode(),
        headers={"ce-id": str(row.event_id), "ce-type": row.ce_type},
    )


class OutboxRelay:
    """Moves committed outbox rows of one service database to the broker. Safe with several replicas."""

    def __init__(
        self,
        service: str,
        engine: Engine,
        table: Table,
        publisher: ConfirmingPublisher,
        *,
        public_exchange: str = "hocba.public",
        batch_size: int = 200,
        pause_after_publish: float = 0,
    ) -> None:
        self.service = service
        self.engine = engine
        self.table = table
        self.publisher = publisher
        self.public_exchange = public_exchange
        self.batch_size = batch_size
        # Fault injection for the chaos test: sleep between publish and mark-sent so it can SIGKILL us there.
        self._pause_after_publish = pause_after_publish

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows were sent (0 when the outbox is empty)."""
        t = self.table
        with self.engine.connect() as conn, conn.begin():
            rows = conn.execute(
                select(
                    t.c.id,
                    t.c.event_id,
                    t.c.exchange,
                    t.c.routing_key,
                    t.c.ce_type,
                    t.c.body,
                    t.c.public_data,
                )
                .where(waiting_rows(t))
                .order_by(t.c.id)
                .limit(self.batch_size)
                # Rows another relay replica holds are skipped, not waited for: replicas share the work.
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            try:
                self.publisher.publish_batch(self._messages(rows))
                sent = list(rows)
            except MessageRefused as refused:
                if (
                    len(rows) > 1
                ):  # one row the broker will not take must not hold back the others: each alone
                    sent = self._one_by_one(conn, rows)
                else:
                    self._refused(conn, rows[0], refused)
                    sent = []
            if self._pause_after_publish:
                log.warning("relay.paused_after_publish", rows=len(rows), seconds=self._pause_after_publish)
                time.sleep(self._pause_after_publish)
            # A crash before this commit republishes the batch; consumers' inboxes absorb the duplicates.
            if sent:
                conn.execute(
                    update(t)
                    .where(t.c.id.in_([r.id for r in sent]))
                    .values(published_at=func.now(), attempts=t.c.attempts + 1, last_error=None)
                )
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(sent))
        return len(sent)

    def _messages(self, rows: Sequence[Any]) -> list[OutgoingMessage]:
        messages = [internal_message(r) for r in rows]
        return messages + [public_message(r, self.public_exchange) for r in rows if r.public_data is not None]

    def _one_by_one(self, conn: Any, rows: Sequence[Any]) -> list[Any]:
        """Each row of a refused batch published alone: the rows the broker takes, in order; a refused one is
        counted against it (``_refused``). A lost connection still fails the whole attempt (``relay_once``'s
        caller backs off), blaming no row."""
        sent = []
        for row in rows:
            try:
                self.publisher.publish_batch(self._messages([row]))
            except MessageRefused as refused:
                self._refused(conn, row, refused)
            else:
                sent.append(row)
        return sent

    def _refused(self, conn: Any, row: Any, error: MessageRefused) -> None:
        """Count a refusal against ``row`` alone; at PARK_AFTER it is parked (``relay_once`` no longer picks it)."""
        t = self.table
        attempts = conn.execute(
            update(t)
            .where(t.c.id == row.id)
            .values(attempts=t.c.attempts + 1, last_error=str(error)[:2000])
            .returning(t.c.attempts)
        ).scalar_one()
        if attempts >= PARK_AFTER:
            log.error("relay.row_parked", event_id=str(row.event_id), attempts=attempts, error=str(error))
        else:
            log.warning("relay.row_refused", event_id=str(row.event_id), attempts=attempts, error=str(error))

    def record_failure(self, error: BaseException) -> None:
        """Keep the reason on the waiting rows so an operator sees why the outbox is not draining. Not counted
        against them (``attempts``): a lost broker or database is nobody's row's fault, and must park none."""
        t = self.table
        with self.engine.begin() as conn:
            oldest = (
                conn.execute(select(t.c.id).where(waiting_rows(t)).order_by(t.c.id).limit(self.batch_size))
                .scalars()
                .all()
            )
            if oldest:
                conn.execute(
                    update(t)
                    .where(t.c.id.in_(oldest))
                    .values(last_error=f"{type(error).__name__}: {error}"[:2000])
                )

    def pending(self) -> tuple[int, float]:
        """(unpublished rows, age in seconds of the oldest) — the relay's lag; parked rows are ``parked()``."""
        t = self.table
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(t.c.created_at)).where(waiting_rows(t))
            ).one()
            now = conn.execute(select(func.now())).scalar_one()
        return int(count), (now - oldest).total_seconds() if oldest else 0.0

    def parked(self) -> int:
        """Rows set aside after the broker refused them PARK_AFTER times (an operator's to look at)."""
        t = self.table
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(parked_rows(t))).scalar_one())

    def run(self, stop: threading.Event, *, poll_seconds: float = 0.2, max_backoff: float = 10.0) -> None:
        """Relay until ``stop`` is set; drains without sleeping while there is work, backs off on errors."""
        backoff = poll_seconds
        last_lag_check = 0.0
        while not stop.is_set():
            try:
                sent = self.relay_once()
                backoff = poll_seconds
                if time.monotonic() - last_lag_check > 5:
                    count, age = self.pending()
                    metrics.OUTBOX_PENDING.labels(self.service).set(count)
                    metrics.OUTBOX_LAG.labels(self.service).set(age)
                    metrics.OUTBOX_PARKED.labels(self.service).set(self.parked())
                    last_lag_check = time.monotonic()
                if sent:
                    continue
            except Exception as error:  # noqa: BLE001 - the relay must outlive broker and database outages
                log.error("relay.batch_failed", error=f"{type(error).__name__}: {error}")
                self.publisher.close()
                try:
                    self.record_failure(error)
                except Exception:  # noqa: BLE001
                    log.error("relay.record_failure_failed")
                backoff = min(max_backoff, backoff * 2)
            stop.wait(backoff)
        self.publisher.close()


def install_stop_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


def release_parked(engine: Engine, table: Table, event_id: str | None = None) -> int:
    """Parked rows (all, or the one of ``event_id``) tried again from the start, once their cause is fixed (`hocba
    outbox release`); returns how many."""
    t = table
    rows = parked_rows(t) if event_id is None else parked_rows(t) & (t.c.event_id == event_id)
    with engine.begin() as conn:
        return conn.execute(update(t).where(rows).values(attempts=0)).rowcount
