"""Small waiting and broker-inspection helpers shared by the integration tests."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer, Queue
from nameko.containers import ServiceContainer

from contracts.envelope import Envelope
from sandbox.ports import free_port, free_ports
from services.runtime import http_client
from services.runtime.wiring import Wiring


def needs_tools(*tools: str, install: str) -> pytest.MarkDecorator:
    """Skip where an outside tool (a program on PATH or an absolute path) is missing on a developer's machine; under
    ``CI=true`` never: CI's machine has what `make setup` installs, and a check that silently skips proves nothing."""
    missing = [t for t in tools if not (Path(t).exists() if t.startswith("/") else shutil.which(t))]
    return pytest.mark.skipif(
        bool(missing) and not os.environ.get("CI"), reason=f"{', '.join(missing)} not installed ({install})"
    )


def wait_for(
    predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_count(
    count: Callable[[], int],
    target: int,
    *,
    stalled_after: float = 60.0,
    interval: float = 0.5,
    what: str = "count",
) -> int:
    """Wait until ``count()`` reaches ``target``, failing only when it stops moving for ``stalled_after`` seconds:
    a burst that drains slowly on a loaded machine is not a failure, one that stopped is. Returns the final count
    (which may pass ``target``: the caller asserts what it must be)."""
    last, moved = count(), time.monotonic()
    while last < target:
        time.sleep(interval)
        now = count()
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stalled_after:
            raise AssertionError(f"{what}: stuck at {last} of {target} for {stalled_after:.0f}s")
    return last


@contextmanager
def tap_queue(amqp_uri: str, name: str, exchange: str, routing_key: str) -> Iterator[str]:
    """A queue of the test's own bound to ``exchange`` (a topic exchange) for ``routing_key``, deleted after.
    Not durable, so classic: a probe, not one of the platform's queues (runtime/queues.py)."""
    queue = Queue(
        name,
        Exchange(exchange, type="topic", durable=True),
        routing_key=routing_key,
        auto_delete=False,
        durable=False,
    )
    with Connection(amqp_uri) as conn:
        queue.declare(channel=conn.default_channel)
    try:
        yield name
    finally:
        with Connection(amqp_uri) as conn:
            conn.default_channel.queue_delete(name)


def queue_depth(amqp_uri: str, queue: str) -> int:
    """Ready messages in ``queue`` (passive declare; raises if it does not exist)."""
    with Connection(amqp_uri) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue=queue, passive=True)
        return count


def get_one(amqp_uri: str, queue: str, timeout: float = 5.0) -> Any:
    """Take one message off ``queue`` (acked), waiting up to ``timeout``."""
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        return wait_for(
            lambda: channel.basic_get(queue, no_ack=True), timeout=timeout, what=f"a message on {queue}"
        )


def own_ports() -> dict[str, str]:
    """``HOCBA_PORT_<NAME>`` for every service and stand-in of a stack of its own, each port reserved for this test
    process (sandbox/ports.py: none the OS could hand to another process while the stack starts) and passed to the
    stack, never a fixed number another run may hold."""
    from cli.registry import stack_port_names

    names = stack_port_names()
    return {
        f"HOCBA_PORT_{name.upper()}": str(port)
        for name, port in zip(names, free_ports(len(names)), strict=True)
    }


@contextmanager
def running(service_cls: type, amqp_uri: str, **config: Any) -> Iterator[Any]:
    """A real nameko container for ``service_cls`` on the test vhost; stopped (or killed) on exit."""
    port = free_port()
    container = ServiceContainer(
        service_cls,
        {"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "max_workers": 10, **config},
    )
    container.start()
    container.http_url = f"http://127.0.0.1:{port}"
    try:
        yield container
    finally:
        container.stop()


def _wiring(container: Any) -> Wiring[Any]:
    (provider,) = (d for d in container.dependencies if isinstance(d, Wiring))
    return provider


def wiring_of(container: Any) -> Any:
    """The adapters a running container's ``Wiring`` built (``services/runtime/wiring.py``)."""
    return _wiring(container).adapters


def rewire(container: Any, **adapters: Any) -> dict[str, Any]:
    """Replace fields of a running container's wiring (later workers get them); returns the ones replaced, so a
    test can put them back. At start-up, pass ``ADAPTERS={…}`` to ``running`` instead."""
    provider = _wiring(container)
    kept = {name: getattr(provider.adapters, name) for name in adapters}
    provider.adapters = dataclasses.replace(provider.adapters, **adapters)
    return kept


def publish_event(amqp_uri: str, event: Any, source_service: str) -> Any:
    """Publish ``event`` as ``source_service`` does (its ``<source>.events`` exchange, the event's routing key), the
    way the relay would; returns the envelope sent."""
    envelope = Envelope.wrap(event, source_service=source_service)
    exchange = Exchange(f"{source_service}.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        Producer(conn.default_channel).publish(
            envelope.wire(), exchange=exchange, routing_key=event.routing_key(), declare=[exchange]
        )
    return envelope


def digitise(transcript_url: str, school_id: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """The clerk posts an earlier year from a scanned paper học bạ; the 201's body (year record, plan, code)."""
    made = http_client.post(
        f"{transcript_url}/schools/{school_id}/records/digitised", json=body, headers=headers, timeout=60
    )
    assert made.status_code == 201, made.text
    return made.json()


def purge(amqp_uri: str, queue: str) -> None:
    """Empty ``queue`` if it exists: earlier tests' events must not count towards this one's."""
    # A missing queue is already empty (the broker closes the channel, so use a throwaway connection).
    with Connection(amqp_uri) as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge(queue)


def copy_database(template_url: str, url: str) -> None:
    """A new database under ``url``, a copy of ``template_url``'s (which nobody may be connected to)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from services.runtime.db import drop_database

    drop_database(url)
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(f'create database "{target.database}" template "{make_url(template_url).database}"')
            )
            # A test's commits need not wait for the WAL to reach the disk: no test crashes the server (a restart
            # flushes it), and an fsync per commit serialised the audit chain's appends behind the disk's latency.
            conn.execute(text(f'alter database "{target.database}" set synchronous_commit to off'))
    finally:
        admin.dispose()


def delete_vhost(management_url: str, vhost: str) -> None:
    """Delete ``vhost`` with its queues and connections (a test's own, at its end)."""
    from services.runtime import broker

    with broker.management_api(management_url, timeout=60) as api:
        broker.delete_vhost(api, vhost)


def start_animator() -> subprocess.Popen[bytes] | None:
    """The test PKI's TSA and CRL server, on the port its certificates name; None where one already answers (`hocba
    up`, or tests/parallel.py for all its processes), which is then used as it is."""
    import sandbox.pki as pki
    from sandbox.ports import answers

    if answers(pki.ANIMATOR_PORT):
        return None
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.pki.animator"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while not answers(pki.ANIMATOR_PORT):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the test PKI's Animator did not start")
        time.sleep(0.1)
    return process


def stop_animator(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None:
        process.terminate()
        process.wait(10)


def fail_as_the_entity_says(entity: str, attempt: int, personal_id: str | None = None) -> None:
    """A retry test's handler: ``flaky-*`` fails twice as PostgreSQL aborts a transaction that raced another (a
    serialization failure: transient) then passes; ``down-*`` always times out (transient, past any budget); ``bug-*``
    is a bug (permanent). ``personal_id`` goes into the timeout's text (the dead letter must not keep it)."""
    import psycopg
    import sqlalchemy

    if entity.startswith("flaky") and attempt < 3:
        raise sqlalchemy.exc.OperationalError(
            "UPDATE marks", {}, psycopg.errors.SerializationFailure("could not serialize access")
        )
    if entity.startswith("down"):
        raise TimeoutError(
            f"the gateway did not answer for {entity}"
            + (f"; personal_id={personal_id}" if personal_id else "")
        )
    if entity.startswith("bug"):
        raise ValueError(f"cannot handle {entity}")
