"""Who may do what on the broker: one permission table (a user per service, per relay and per vendor), for `hocba
broker setup` and the Kubernetes manifests alike."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from contracts.envelope import EventModel
from services.runtime.broker import Subscription, management_api
from services.runtime.handlers import dead_letter_exchange_name
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


def relay_principal(service: str) -> str:
    return f"{service}-relay"


def vendor_principal(vendor: str) -> str:
    return f"vendor-{vendor}"


def service_grant(service: str, subscriptions: Iterable[Subscription], settings: Settings) -> BrokerGrant:
    """What a service's pods need, derived from its reliable handlers; it publishes nothing but its dead letters.

    - nameko declares each consumer queue, the handler its ``.dlq`` and the service's own dead-letter exchange
      (configure, which is also what deleting takes: so its own only); the source exchanges exist beforehand
      (``declare_exchanges`` false); binding needs write on the queue and read on the exchange; consuming needs
      read on the queue;
    - a failed message is republished, with the exception in headers, to the service's own dead-letter exchange
      (write): never to another service's, so it cannot plant a message in another service's DLQ. (When the broker
      dead-letters by policy it needs no permission of the client at all.)
    - a transiently failed one goes the same way to its ``<queue>.retry``, which the handler redeclares
      (configure) and binds to that exchange (write on the queue). Creating it takes write on ``amq.default`` (its
      dead-letter exchange), which no service has: `broker setup` creates it. Nor may it read it: nothing consumes
      a retry queue, the broker returns what expires there to ``<queue>``.
    """
    own = [s for s in subscriptions if s.service == service]
    queues = [s.queue for s in own]
    dead_letter_queues = [s.dead_letter_queue for s in own]
    retry_queues = [s.retry_queue for s in own]
    sources = [exchange_of(s.source_service) for s in own]
    dlx = [dead_letter_exchange_name(settings.dead_letter_exchange, service)] if own else []
    by_source: dict[str, set[str]] = {}
    for s in own:
        by_source.setdefault(exchange_of(s.source_service), set()).add(s.event_model.routing_key())
    # On a source topic exchange it may bind only with the routing keys it subscribes to: another event of that
    # service (say gradebook's audit events) never reaches its queues. It publishes to none of them.
    topics = tuple(
        TopicGrant(exchange, write=NOTHING, read=any_of(keys)) for exchange, keys in sorted(by_source.items())
    )
    return BrokerGrant(
        principal=service,
        configure=any_of([*queues, *dead_letter_queues, *retry_queues, *dlx]),
        write=any_of([*queues, *dead_letter_queues, *retry_queues, *dlx]),
        read=any_of([*queues, *sources, *dlx]),
        topics=topics,
    )


def relay_grant(service: str, settings: Settings, events: Iterable[type[EventModel]]) -> BrokerGrant:
    """A service's outbox relay: publishes to its own ``<service>.events`` and ``hocba.public``, with exactly the
    routing keys of the events the service emits (``EMITTED_BY``); configures nothing (configure would let it delete
    hocba.public: the exchanges exist beforehand, ``declare_exchanges`` false); reads nothing."""
    emitted = [e for e in events if service in e.EMITTED_BY]
    exchanges = [exchange_of(service), settings.public_exchange]
    return BrokerGrant(
        principal=relay_principal(service),
        configure=NOTHING,
        write=any_of(exchanges),
        read=NOTHING,
        topics=(
            TopicGrant(exchange_of(service), write=any_of(e.routing_key() for e in emitted), read=NOTHING),
            TopicGrant(
                settings.public_exchange,
                write=any_of(e.ce_type() for e in emitted if e.PUBLIC_MODEL is not None),
                read=NOTHING,
            ),
        ),
    )


def vendor_queue_prefix(vendor: str) -> str:
    return f"vendor-{vendor}-"


def vendor_grant(vendor: str, settings: Settings) -> BrokerGrant:
    """A vendor declares and reads only its own ``vendor-<name>-*`` queues, bound to the public exchange only."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", vendor):
        raise ValueError(f"vendor name {vendor!r}: lower-case letters, digits and hyphens only")
    own = f"^{re.escape(vendor_queue_prefix(vendor))}.*$"
    return BrokerGrant(
        principal=vendor_principal(vendor),
        configure=own,
        write=own,  # queue.bind checks write on the queue: its own only; it publishes to no exchange
        read=f"^({re.escape(vendor_queue_prefix(vendor))}.*|{re.escape(settings.public_exchange)})$",
    )


def permission_table(
    subscriptions: Iterable[Subscription],
    services: Iterable[str],
    settings: Settings,
    vendors: Iterable[str] = (),
) -> dict[str, BrokerGrant]:
    """The one table: a grant per service, per service's relay and per vendor, by principal. `hocba broker setup`
    applies it, the Kubernetes manifests render it."""
    from contracts.registry import EVENT_MODELS

    subscriptions = list(subscriptions)
    table: dict[str, BrokerGrant] = {}
    for name in services:
        table[name] = service_grant(name, subscriptions, settings)
        table[relay_principal(name)] = relay_grant(name, settings, EVENT_MODELS)
    for vendor in vendors:
        table[vendor_principal(vendor)] = vendor_grant(vendor, settings)
    return table


def table_for(
    service_classes: Iterable[type], services: Iterable[str], settings: Settings
) -> dict[str, BrokerGrant]:
    """The table for these nameko service classes and the configured vendors."""
    from services.runtime.broker import subscriptions_of

    subscriptions = [s for cls in service_classes for s in subscriptions_of(cls)]
    return permission_table(subscriptions, services, settings, settings.broker_vendors)


def user_name(principal: str, settings: Settings) -> str:
    """The broker user a principal logs in as (a test run prefixes its own: users are cluster-wide)."""
    return f"{settings.broker_user_prefix}{principal}"


def password_of(principal: str, settings: Settings) -> str:
    """Development and tests only: each user's password derived from the one HOCBA_BROKER_USER_SECRET in .env
    (in Kubernetes the Topology Operator generates them into each user's Secret)."""
    if settings.broker_user_secret is None:
        raise RuntimeError(
            "HOCBA_BROKER_USER_SECRET is not set: `make setup` writes a development one into .env; in Kubernetes "
            "the Topology Operator creates the users and their passwords"
        )
    secret = settings.broker_user_secret.get_secret_value().encode()
    digest = hmac.new(secret, f"hocba-broker-user:{user_name(principal, settings)}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def amqp_uri_as(principal: str, settings: Settings) -> str:
    """``settings.amqp_uri`` (its host, port and vhost) logged in as ``principal``'s own user."""
    parts = urlsplit(settings.amqp_uri)
    host = parts.hostname or "127.0.0.1"
    netloc = (
        f"{quote(user_name(principal, settings), safe='')}:{quote(password_of(principal, settings), safe='')}"
    )
    netloc += f"@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def setup_users(settings: Settings, table: Mapping[str, BrokerGrant]) -> list[str]:
    """Create or update every principal's user with exactly its grant on the settings' vhost. Idempotent."""
    from services.runtime.broker import vhost_of

    users = {user_name(p, settings): (grant, password_of(p, settings)) for p, grant in table.items()}
    apply_grants(settings.rabbit_management_url, vhost_of(settings.amqp_uri), users)
    return sorted(users)


def apply_grants(
    management_url: str, vhost: str, users: Mapping[str, tuple[BrokerGrant, str]], *, tags: str = ""
) -> None:
    """Create or update each user (name → grant, password) and set exactly its grant on ``vhost``."""
    v = quote(vhost, safe="")
    with management_api(management_url) as api:
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
    with management_api(management_url) as api:
        for user in users:
            api.delete(f"/users/{quote(user, safe='')}")
