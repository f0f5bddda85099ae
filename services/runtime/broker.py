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
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange

from contracts.envelope import EventModel
from services.runtime import http_client
from services.runtime.handlers import ReliableEventHandler, dead_letter_exchange_name, dead_letter_queue_name
from services.runtime.logging import get_logger
from services.runtime.outbox import exchange_of
from services.runtime.queues import QUORUM, QueueType, platform_queue
from services.runtime.retry import retry_queue, retry_queue_name
from services.runtime.settings import Settings

log = get_logger(__name__)

UNROUTED = "hocba.unrouted"
# A quorum queue counts a delivery each time a message goes back to it, also when a channel holding it unacked closes:
# which is how `hocba dlq list|show` browses a DLQ. Past its delivery limit a message is dropped (a DLQ has no
# dead-letter exchange), and RabbitMQ 4.0 sets a default limit of 20 (3.x none). Looking at dead letters must never
# lose them: this limit is far beyond any browsing (RabbitMQ 3.x refuses -1, "no limit", which 4.x would take).
KEPT_DELIVERY_LIMIT = 1_000_000


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
        PolicySpec("dead-letters-kept", r"\.dlq$", {"delivery-limit": KEPT_DELIVERY_LIMIT}, 1, "queues")
    )
    policies.append(
        PolicySpec(
            "unrouted-bound",
            f"^{re.escape(UNROUTED)}$",
            {"max-length": 100_000, "delivery-limit": KEPT_DELIVERY_LIMIT},
            1,
            "queues",
        )
    )
    return policies


def declare_topology(
    amqp_uri: str, subscriptions: Iterable[Subscription], emitting_services: Iterable[str], settings: Settings
) -> dict[str, int]:
    """Declare every exchange and queue (durable, of the settings' ``queue_type``, with no other argument but for the
    retry queues, whose arguments send what expires back to their consumer queue) and their bindings. Idempotent.

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
        kind = settings.queue_type
        platform_queue(UNROUTED, kind, unrouted).declare(channel=channel)
        for s in subscriptions:
            # Declared before any consumer starts, so no event is lost while a service has never run.
            platform_queue(
                s.queue, kind, exchanges[exchange_of(s.source_service)], s.event_model.routing_key()
            ).declare(channel=channel)
            platform_queue(s.dead_letter_queue, kind, dlx[s.service], s.dead_letter_queue).declare(
                channel=channel
            )
            retry_queue(s.queue, dlx[s.service], kind).declare(channel=channel)
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


class QueuesOfAnotherType(RuntimeError):
    """Platform queues exist as another type than the settings' ``queue_type`` (classic ones on a vhost set up
    before quorum queues, or the other way round) and hold messages or have consumers. A queue's type cannot change
    in place (nor through a policy): it would have to be deleted and declared again, which would lose what it holds.
    Nothing was changed."""

    def __init__(self, vhost: str, wanted: QueueType, held: dict[str, str]) -> None:
        self.vhost = vhost
        self.wanted = wanted
        self.held = held
        listed = "\n".join(f"  {name}: {what}" for name, what in sorted(held.items()))
        super().__init__(
            f"these queues on vhost {vhost!r} are not {wanted} queues and must become {wanted} queues, but they are "
            f"not empty or still have consumers, so they were left as they are (nothing was changed):\n{listed}\n"
            "Drain them first: let the services running the previous version consume what is left, replay or "
            "purge what a .dlq holds (`hocba dlq`), or move their messages to another queue (e.g. a shovel); stop "
            f"the services consuming from them; then run `hocba broker setup` again, which declares them anew as "
            f"{wanted} queues."
        )


def platform_queues(subscriptions: Iterable[Subscription]) -> list[str]:
    """Every durable queue `broker setup` declares: each subscription's queue, DLQ and retry queue, and unrouted."""
    return [UNROUTED, *(q for s in subscriptions for q in (s.queue, s.dead_letter_queue, s.retry_queue))]


@dataclass(frozen=True)
class QueueInfo:
    type: str  # classic, quorum, stream
    messages: int  # ready and unacknowledged, as of the broker's last statistics (seconds late)


def queue_infos(management_url: str, vhost: str) -> dict[str, QueueInfo]:
    """Every queue on ``vhost``, from the management API."""
    with management_api(management_url) as api:
        response = api.get(f"/queues/{quote(vhost, safe='')}", params={"columns": "name,type,messages"})
        response.raise_for_status()
        return {
            q["name"]: QueueInfo(q.get("type", "classic"), int(q.get("messages") or 0))
            for q in response.json()
        }


def migrate_queue_type(
    amqp_uri: str, management_url: str, names: Iterable[str], wanted: QueueType
) -> dict[str, str]:
    """Delete those of ``names`` that exist on the vhost as another type than ``wanted``, are empty and have no
    consumer, so that they are declared again as ``wanted``; returns them, with the type each was. If any of them
    holds a message or has a consumer, raises :class:`QueuesOfAnotherType` having deleted none (one that gets a
    message or a consumer while they are being deleted stops it there)."""
    vhost = vhost_of(amqp_uri)
    names = set(names)
    infos = queue_infos(management_url, vhost)
    others = sorted(name for name, info in infos.items() if name in names and info.type != wanted)
    if not others:
        return {}
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        held = {}
        for name in others:
            # Exact counts from the queue itself (ready messages only); the statistics also count those delivered
            # and not yet acked, however late: either one is enough to keep the queue.
            _, ready, consumers = channel.queue_declare(queue=name, passive=True)
            messages = max(ready, infos[name].messages)
            if messages or consumers:
                held[name] = f"{infos[name].type}, {messages} message(s), {consumers} consumer(s)"
        if held:
            raise QueuesOfAnotherType(vhost, wanted, held)
        for name in others:
            try:
                if infos[name].type == QUORUM:
                    # RabbitMQ refuses if_unused on a quorum queue (NOT_IMPLEMENTED, closing the connection): its
                    # emptiness was read a moment ago, once more now, and the delete follows at once.
                    _, ready, consumers = channel.queue_declare(queue=name, passive=True)
                    if ready or consumers:
                        raise QueuesOfAnotherType(
                            vhost, wanted, {name: f"{ready} message(s), {consumers} consumer(s) arrived"}
                        )
                    channel.queue_delete(queue=name)
                else:
                    # if_empty, if_unused: the broker itself refuses should a message or a consumer come meanwhile.
                    channel.queue_delete(queue=name, if_unused=True, if_empty=True)
            except conn.channel_errors as error:
                raise QueuesOfAnotherType(
                    vhost, wanted, {name: f"a message or consumer arrived: {error}"}
                ) from error
            log.warning("broker.queue_type_changed", queue=name, vhost=vhost, was=infos[name].type, to=wanted)
    return {name: infos[name].type for name in others}


def setup_broker(
    settings: Settings, service_classes: Iterable[type], emitting_services: Iterable[str]
) -> dict[str, Any]:
    """Declare the topology (first replacing the empty platform queues of another type than the settings'
    ``queue_type``) and apply the policies."""
    subscriptions = [s for cls in service_classes for s in subscriptions_of(cls)]
    try:
        migrated = migrate_queue_type(
            settings.amqp_uri,
            settings.rabbit_management_url,
            platform_queues(subscriptions),
            settings.queue_type,
        )
    except httpx.HTTPError as error:
        # Without the API no queue's type is known: a queue of the other type makes the declaration below fail.
        log.warning("broker.queue_types_unknown", error=repr(error))
        migrated = {}
    try:
        counts = declare_topology(settings.amqp_uri, subscriptions, emitting_services, settings)
    except PreconditionFailed as error:
        raise RuntimeError(
            f"{error}: a queue exists with other arguments than `broker setup` gives it, such as a classic queue "
            f"where a {settings.queue_type} queue is wanted (HOCBA_QUEUE_TYPE) or the other way round. With the "
            "management API reachable, setup replaces an empty queue of the other type itself and names those that "
            "hold messages; otherwise drain and delete the queue, then run setup again."
        ) from error
    policies = policies_for(subscriptions, settings)
    route = apply_policies(policies, settings, vhost_of(settings.amqp_uri))
    return {
        **counts,
        "policies": len(policies),
        "via": route,
        "subscriptions": [s.queue for s in subscriptions],
        "migrated": migrated,
    }
