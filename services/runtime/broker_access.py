"""Who may do what on the broker: one permission table per service and vendor, for `hocba broker setup` and the
Kubernetes manifests alike."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

from services.runtime.broker import Subscription
from services.runtime.outbox import exchange_of
from services.runtime.settings import Settings


@dataclass(frozen=True)
class TopicGrant:
    """Routing keys a user may publish with (write) or bind with (read) on one topic exchange."""

    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class BrokerGrant:
    """RabbitMQ's three regexes for one user on one vhost, plus topic-exchange routing-key limits.

    configure = declare/delete a queue or exchange of that name; write = publish to an exchange, or bind a queue
    (the queue is the one checked); read = consume from a queue, or bind from an exchange (RabbitMQ checks the
    exchange). A name matching none is refused by the broker itself: ACCESS_REFUSED, channel closed with 403.
    """

    principal: str
    configure: str
    write: str
    read: str
    topics: tuple[TopicGrant, ...] = ()


NOTHING = "^$"


def any_of(names: Iterable[str]) -> str:
    """An anchored regex matching exactly these names (and nothing at all for none)."""
    unique = sorted(set(names))
    return f"^({'|'.join(re.escape(n) for n in unique)})$" if unique else NOTHING


def service_grant(service: str, subscriptions: Iterable[Subscription], settings: Settings) -> BrokerGrant:
    """What one service's pods (service and outbox relay, one broker user) need, derived from its handlers.

    - its relay publishes to its own ``<service>.events`` and to ``hocba.public``; its reliable handlers publish
      failed messages to the dead-letter exchange;
    - nameko declares each consumer queue and the source exchange it binds to, the handler its ``.dlq``
      (configure); binding needs write on the queue and read on the exchange; consuming needs read on the queue.
    """
    own = [s for s in subscriptions if s.service == service]
    queues = [q for s in own for q in (s.queue, s.dead_letter_queue)]
    sources = [exchange_of(s.source_service) for s in own]
    publishes = [exchange_of(service), settings.public_exchange, settings.dead_letter_exchange]
    by_source: dict[str, set[str]] = {}
    for s in own:
        by_source.setdefault(exchange_of(s.source_service), set()).add(s.event_model.routing_key())
    # On a source topic exchange it may bind only with the routing keys it subscribes to: another event of that
    # service (say gradebook's audit events) never reaches its queues.
    topics = tuple(
        TopicGrant(exchange, write=NOTHING if exchange != exchange_of(service) else ".*", read=any_of(keys))
        for exchange, keys in sorted(by_source.items())
    )
    return BrokerGrant(
        principal=service,
        configure=any_of([*publishes, *sources, *queues]),
        write=any_of([*publishes, *queues]),
        read=any_of([*queues, *sources, settings.dead_letter_exchange]),
        topics=topics,
    )


def vendor_queue_prefix(vendor: str) -> str:
    return f"vendor-{vendor}-"


def vendor_grant(vendor: str, settings: Settings) -> BrokerGrant:
    """A vendor declares and reads only its own ``vendor-<name>-*`` queues, bound to the public exchange only."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", vendor):
        raise ValueError(f"vendor name {vendor!r}: lower-case letters, digits and hyphens only")
    own = f"^{re.escape(vendor_queue_prefix(vendor))}.*$"
    return BrokerGrant(
        principal=f"vendor-{vendor}",
        configure=own,
        write=own,  # queue.bind checks write on the queue: its own only; it publishes to no exchange
        read=f"^({re.escape(vendor_queue_prefix(vendor))}.*|{re.escape(settings.public_exchange)})$",
    )


def permission_table(
    subscriptions: Iterable[Subscription], services: Iterable[str], settings: Settings
) -> dict[str, BrokerGrant]:
    """Every service's grant, by service name: the one table `broker setup` applies and the manifests render."""
    subscriptions = list(subscriptions)
    return {name: service_grant(name, subscriptions, settings) for name in services}


def apply_grants(
    management_url: str, vhost: str, users: Mapping[str, tuple[BrokerGrant, str]], *, tags: str = ""
) -> None:
    """Create or update each user (name → grant, password) and set exactly its grant on ``vhost``."""
    parts = urlsplit(management_url)
    root = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
    auth = (parts.username or "guest", parts.password or "guest")
    v = quote(vhost, safe="")
    with httpx.Client(base_url=root, auth=auth, timeout=10) as api:
        for user, (grant, password) in users.items():
            u = quote(user, safe="")
            api.put(f"/users/{u}", json={"password": password, "tags": tags}).raise_for_status()
            api.put(
                f"/permissions/{v}/{u}",
                json={"configure": grant.configure, "write": grant.write, "read": grant.read},
            ).raise_for_status()
            # Topic permissions replace, never accumulate: clear the old ones first.
            api.delete(f"/topic-permissions/{v}/{u}")
            for topic in grant.topics:
                api.put(
                    f"/topic-permissions/{v}/{u}",
                    json={"exchange": topic.exchange, "write": topic.write, "read": topic.read},
                ).raise_for_status()


def delete_users(management_url: str, users: Iterable[str]) -> None:
    parts = urlsplit(management_url)
    root = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
    with httpx.Client(
        base_url=root, auth=(parts.username or "guest", parts.password or "guest"), timeout=10
    ) as api:
        for user in users:
            api.delete(f"/users/{quote(user, safe='')}")
