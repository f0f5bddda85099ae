"""Broker topology: exchanges, consumer queues, dead-letter queues and the policies that route to them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from kombu import Connection, Exchange, Queue

from contracts.envelope import EventModel
from services.runtime import http_client
from services.runtime.handlers import ReliableEventHandler, dead_letter_exchange_name, dead_letter_queue_name
from services.runtime.logging import get_logger
from services.runtime.outbox import exchange_of
from services.runtime.retry import retry_queue, retry_queue_name
from services.runtime.settings import Settings

log = get_logger(__name__)

UNROUTED = "hocba.unrouted"


@dataclass(frozen=True)
class Subscription:
    """One reliable event handler: which service method consumes which event from which emitting service."""

    service: str
    method: str
    source_service: str
    event_model: type[EventModel]

    @property
    def queue(self) -> str:
        # nameko's SERVICE_POOL naming, so the queue we declare is the one nameko consumes from.
        return f"evt-{self.source_service}-{self.event_model.routing_key()}--{self.service}.{self.method}"

    @property
    def dead_letter_queue(self) -> str:
        return dead_letter_queue_name(self.queue)

    @property
    def retry_queue(self) -> str:
        return retry_queue_name(self.queue)


@dataclass(frozen=True)
class PolicySpec:
    name: str
    pattern: str
    definition: dict[str, Any]
    priority: int
    apply_to: str


def subscriptions_of(service_cls: type) -> list[Subscription]:
    """Read the reliable event handlers off a nameko service class, without starting it."""
    service_name: str = service_cls.name  # type: ignore[attr-defined]
    found = []
    for attr in dir(service_cls):
        method = getattr(service_cls, attr, None)
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, ReliableEventHandler):
                found.append(
                    Subscription(service_name, attr, entrypoint.source_service, entrypoint.event_model)
                )
    return found


def policies_for(subscriptions: Iterable[Subscription], settings: Settings) -> list[PolicySpec]:
    """Dead-lettering lives in policies, never in queue arguments: nameko redeclares queues without arguments."""
    policies = [
        PolicySpec(
            f"dlx.{s.queue}",
            f"^{re.escape(s.queue)}$",
            {
                "dead-letter-exchange": dead_letter_exchange_name(settings.dead_letter_exchange, s.service),
                "dead-letter-routing-key": s.dead_letter_queue,
            },
            10,
            "queues",
        )
        for s in subscriptions
    ]
    policies.append(
        PolicySpec("unrouted-events", r"^[a-z_]+\.events$", {"alternate-exchange": UNROUTED}, 1, "exchanges")
    )
    policies.append(
        PolicySpec("unrouted-bound", f"^{re.escape(UNROUTED)}$", {"max-length": 100_000}, 1, "queues")
    )
    return policies


def declare_topology(
    amqp_uri: str, subscriptions: Iterable[Subscription], emitting_services: Iterable[str], settings: Settings
) -> dict[str, int]:
    """Declare every exchange and queue (durable; plain but for the retry queues, whose arguments send what expires
    back to their consumer queue) and their bindings. Idempotent.

    Only the administrator can create a retry queue (its dead-letter exchange is the default one, which takes write
    on ``amq.default``): so it is created here, and a service's own user merely redeclares it."""
    subscriptions = list(subscriptions)
    dlx = {
        s.service: Exchange(
            dead_letter_exchange_name(settings.dead_letter_exchange, s.service), type="direct", durable=True
        )
        for s in subscriptions
    }
    services = set(emitting_services) | {s.source_service for s in subscriptions}
    exchanges = {
        exchange_of(name): Exchange(exchange_of(name), type="topic", durable=True) for name in services
    }
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        for exchange in [
            *dlx.values(),
            Exchange(settings.public_exchange, type="topic", durable=True),
            *exchanges.values(),
        ]:
            exchange.declare(channel=channel)
        unrouted = Exchange(UNROUTED, type="fanout", durable=True)
        unrouted.declare(channel=channel)
        Queue(UNROUTED, exchange=unrouted, durable=True).declare(channel=channel)
        for s in subscriptions:
            # Declared before any consumer starts, so no event is lost while a service has never run.
            Queue(
                s.queue,
                exchange=exchanges[exchange_of(s.source_service)],
                routing_key=s.event_model.routing_key(),
                durable=True,
            ).declare(channel=channel)
            Queue(
                s.dead_letter_queue, exchange=dlx[s.service], routing_key=s.dead_letter_queue, durable=True
            ).declare(channel=channel)
            retry_queue(s.queue, dlx[s.service]).declare(channel=channel)
    return {"exchanges": len(exchanges) + len(dlx) + 2, "queues": 3 * len(subscriptions) + 1}


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return path[1:] if path not in ("", "/") else "/"


def apply_policies(policies: Iterable[PolicySpec], settings: Settings, vhost: str) -> str:
    """Through the management API when it answers, else `rabbitmqctl` on this host. Returns the route taken."""
    policies = list(policies)
    try:
        _apply_via_management(policies, settings.rabbit_management_url, vhost)
        return "management-api"
    except httpx.HTTPError as error:
        if not shutil.which("rabbitmqctl"):
            raise RuntimeError(
                f"cannot set policies: management API unreachable ({error}) and rabbitmqctl not installed"
            ) from error
        log.info("broker.management_unreachable", fallback="rabbitmqctl")
    for p in policies:
        subprocess.run(
            [
                "rabbitmqctl",
                "-q",
                "set_policy",
                "-p",
                vhost,
                "--priority",
                str(p.priority),
                "--apply-to",
                p.apply_to,
                p.name,
                p.pattern,
                json.dumps(p.definition),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return "rabbitmqctl"


def management_api(management_url: str, *, timeout: float = 10) -> httpx.Client:
    """A client of RabbitMQ's management API (``…/api``) as the URL's user (guest when it names none)."""
    parts = urlsplit(management_url)
    return http_client.client(
        base_url=f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api",
        auth=(parts.username or "guest", parts.password or "guest"),
        timeout=timeout,
    )


def delete_vhost(api: httpx.Client, vhost: str) -> None:
    """Delete ``vhost`` with its queues and connections; one already gone is fine."""
    response = api.delete(f"/vhosts/{quote(vhost, safe='')}")
    if response.status_code not in (204, 404):
        response.raise_for_status()


def recreate_vhost(management_url: str, vhost: str) -> None:
    """An empty ``vhost`` the management URL's user may use fully (test runs, benchmarks); rabbitmqctl when the
    management API does not answer."""
    user = urlsplit(management_url).username or "guest"
    name = quote(vhost, safe="")
    try:
        with management_api(management_url) as api:
            delete_vhost(api, vhost)
            api.put(f"/vhosts/{name}").raise_for_status()
            api.put(
                f"/permissions/{name}/{quote(user, safe='')}",
                json={"configure": ".*", "write": ".*", "read": ".*"},
            ).raise_for_status()
        return
    except httpx.HTTPError:
        if not shutil.which("rabbitmqctl"):
            raise
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )


def _apply_via_management(policies: list[PolicySpec], base_url: str, vhost: str) -> None:
    with management_api(base_url, timeout=5) as client:
        for p in policies:
            response = client.put(
                f"/policies/{quote(vhost, safe='')}/{quote(p.name, safe='')}",
                json={
                    "pattern": p.pattern,
                    "definition": p.definition,
                    "priority": p.priority,
                    "apply-to": p.apply_to,
                },
            )
            response.raise_for_status()


def setup_broker(
    settings: Settings, service_classes: Iterable[type], emitting_services: Iterable[str]
) -> dict[str, Any]:
    subscriptions = [s for cls in service_classes for s in subscriptions_of(cls)]
    counts = declare_topology(settings.amqp_uri, subscriptions, emitting_services, settings)
    policies = policies_for(subscriptions, settings)
    route = apply_policies(policies, settings, vhost_of(settings.amqp_uri))
    return {
        **counts,
        "policies": len(policies),
        "via": route,
        "subscriptions": [s.queue for s in subscriptions],
    }
