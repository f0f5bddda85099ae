"""`hocba demo`: run what exists of the pipeline on local defaults and show each hop."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
from kombu import Connection, Exchange, Queue
from rich.console import Console

from cli.registry import SERVICES

SCHOOL = "demo-thcs-nguyen-du"


def _wait(predicate: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/readyz", timeout=2).status_code == 200


def run_demo(
    spawn: Callable[[list[str]], list[Any]], stop: Callable[[list[Any]], None], console: Console
) -> int:
    from services.runtime.auth import mint_token
    from services.runtime.settings import get_settings

    settings = get_settings()
    console.rule("Học bạ số — demo")
    console.print(
        "What exists so far is the backbone with two services: gradebook → outbox → relay → RabbitMQ → audit.\n"
        "Transcript, signing and sync are not built yet, so the demo stops at the audit log."
    )
    # A vendor's view: a queue on the public exchange, bound before anything is published.
    vendor = Queue(
        f"demo-vendor-{uuid.uuid4().hex[:6]}",
        Exchange(settings.public_exchange, type="topic", durable=True),
        routing_key="vn.hocba.#",
        auto_delete=True,
    )
    with Connection(settings.amqp_uri) as conn:
        vendor.declare(channel=conn.default_channel)
    procs = spawn(list(SERVICES))
    try:
        gradebook = f"http://127.0.0.1:{SERVICES['gradebook'].port}"
        audit = f"http://127.0.0.1:{SERVICES['audit'].port}"
        for url in (gradebook, audit):
            _wait(partial(_ready, url), 60, f"{url}/readyz")
        console.print(f"services ready: gradebook {gradebook}, audit {audit}")
        principal = mint_token(settings, user_id="hieu-truong-1", roles=["principal"], school_id=SCHOOL)
        class_id = f"8A1-{uuid.uuid4().hex[:6]}"
        response = httpx.post(
            f"{gradebook}/schools/{SCHOOL}/classes/{class_id}/terms/hk1/lock",
            json={"class_name": "8A1", "grade": 8, "school_year": "2025-2026"},
            headers={"Authorization": f"Bearer {principal}"},
        )
        response.raise_for_status()
        console.print(
            f"1. principal locked term hk1 of class {class_id}: HTTP {response.status_code} {response.json()}"
        )
        again = httpx.post(
            f"{gradebook}/schools/{SCHOOL}/classes/{class_id}/terms/hk1/lock",
            json={"class_name": "8A1", "grade": 8, "school_year": "2025-2026"},
            headers={"Authorization": f"Bearer {principal}"},
        )
        console.print(f"2. locking again is refused: HTTP {again.status_code} — {again.json()['detail']}")

        def audit_entry() -> Any:
            entries = httpx.get(
                f"{audit}/schools/{SCHOOL}/audit", headers={"Authorization": f"Bearer {principal}"}, timeout=5
            ).json()["entries"]
            return next((e for e in entries if e["entity_id"].startswith(f"class/{class_id}/")), None)

        entry = _wait(audit_entry, 30, "the audit entry")
        console.print(
            f"3. audit recorded it (via outbox → relay → broker → inbox): seq {entry['seq']}, "
            f"action {entry['action']}, actor {entry['actor_id']}"
        )
        with Connection(settings.amqp_uri) as conn:
            message = _wait(
                lambda: conn.default_channel.basic_get(vendor.name, no_ack=True), 30, "the public event"
            )
        console.print(
            f"4. vendors received {message.headers['ce-type']} (id {message.headers['ce-id']}) on "
            f"{settings.public_exchange}: {message.body if isinstance(message.body, str) else message.body.decode()}"
        )
        console.print(
            f"Look further: {audit}/schools/{SCHOOL}/audit (Bearer token from `hocba token --role principal "
            f"--school {SCHOOL}`), {gradebook}/metrics, RabbitMQ http://127.0.0.1:15672"
        )
        console.rule("demo finished")
        return 0
    finally:
        stop(procs)
