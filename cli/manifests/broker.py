"""The broker as Messaging Topology Operator objects: exchanges, queues, bindings and policies as the code declares
them, and a user per principal with exactly its row of the permission table."""

from __future__ import annotations

from typing import Any

from cli.manifests.names import QUEUE_TYPE, RABBIT, broker_user, k8s_name, meta
from cli.registry import SERVICES


def topology_objects() -> list[dict[str, Any]]:
    from services.runtime.broker import UNROUTED, policies_for, subscriptions_of
    from services.runtime.handlers import dead_letter_exchange_name
    from services.runtime.retry import retry_queue_arguments
    from services.runtime.settings import Settings

    settings = Settings()
    subscriptions = [s for e in SERVICES.values() for s in subscriptions_of(e.load())]
    ref = {"rabbitmqClusterReference": {"name": RABBIT}}
    objects: list[dict[str, Any]] = []
    exchanges = {f"{s}.events": "topic" for s in {*SERVICES, *(x.source_service for x in subscriptions)}}
    exchanges.update({settings.public_exchange: "topic", UNROUTED: "fanout"})
    exchanges.update(
        {dead_letter_exchange_name(settings.dead_letter_exchange, s.service): "direct" for s in subscriptions}
    )
    for exchange, kind in sorted(exchanges.items()):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Exchange",
                "metadata": meta(k8s_name(exchange), "broker"),
                "spec": {"name": exchange, "type": kind, "durable": True, "autoDelete": False, **ref},
            }
        )
    # Quorum queues (replicated on the cluster's nodes) with no other argument: exactly what nameko redeclares at
    # start-up, every container having HOCBA_QUEUE_TYPE=quorum (workloads.py). The operator sets `x-queue-type`
    # from `type`.
    for queue in sorted(
        [UNROUTED, *(s.queue for s in subscriptions), *(s.dead_letter_queue for s in subscriptions)]
    ):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Queue",
                "metadata": meta(k8s_name(queue), "broker"),
                "spec": {"name": queue, "type": QUEUE_TYPE, "durable": True, "autoDelete": False, **ref},
            }
        )
    # The retry queues carry their dead-lettering as arguments (what expires goes back to the consumer queue), as
    # `broker setup` declares them; the operator creates them, which no service's own user may (runtime/retry.py).
    for s in sorted(subscriptions, key=lambda s: s.retry_queue):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Queue",
                "metadata": meta(k8s_name(s.retry_queue), "broker"),
                "spec": {
                    "name": s.retry_queue,
                    "type": QUEUE_TYPE,
                    "durable": True,
                    "autoDelete": False,
                    "arguments": retry_queue_arguments(s.queue),
                    **ref,
                },
            }
        )
    bindings = [(f"{s.source_service}.events", s.queue, s.event_model.routing_key()) for s in subscriptions]
    bindings += [
        (dead_letter_exchange_name(settings.dead_letter_exchange, s.service), queue, queue)
        for s in subscriptions
        for queue in (s.dead_letter_queue, s.retry_queue)
    ]
    bindings.append((UNROUTED, UNROUTED, ""))
    for source, destination, key in sorted(bindings):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Binding",
                "metadata": meta(k8s_name(f"bind-{destination}"), "broker"),
                "spec": {
                    "source": source,
                    "destination": destination,
                    "destinationType": "queue",
                    "routingKey": key,
                    **ref,
                },
            }
        )
    for policy in policies_for(subscriptions, settings):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Policy",
                "metadata": meta(k8s_name(policy.name), "broker"),
                "spec": {
                    "name": policy.name,
                    "pattern": policy.pattern,
                    "applyTo": policy.apply_to,
                    "priority": policy.priority,
                    "definition": policy.definition,
                    **ref,
                },
            }
        )
    return objects


def broker_user_objects() -> list[dict[str, Any]]:
    """A User, a Permission and its TopicPermissions per principal of the one table in runtime/broker_access.py
    (each service, each relay, each vendor): exactly the patterns `hocba broker setup` applies locally."""
    from services.runtime.broker_access import table_for
    from services.runtime.settings import Settings

    settings = Settings()
    table = table_for([e.load() for e in SERVICES.values()], SERVICES, settings)
    ref = {"rabbitmqClusterReference": {"name": RABBIT}}
    objects: list[dict[str, Any]] = []
    for principal, grant in table.items():
        user = broker_user(principal)
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "User",
                "metadata": meta(user, "broker"),
                "spec": ref,
            }
        )
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Permission",
                "metadata": meta(user, "broker"),
                "spec": {
                    "vhost": "/",
                    "userReference": {"name": user},
                    "permissions": {"configure": grant.configure, "write": grant.write, "read": grant.read},
                    **ref,
                },
            }
        )
        for topic in grant.topics:
            objects.append(
                {
                    "apiVersion": "rabbitmq.com/v1beta1",
                    "kind": "TopicPermission",
                    "metadata": meta(k8s_name(f"{user}-topic-{topic.exchange}"), "broker"),
                    "spec": {
                        "vhost": "/",
                        "userReference": {"name": user},
                        "permissions": {"exchange": topic.exchange, "write": topic.write, "read": topic.read},
                        **ref,
                    },
                }
            )
    return objects
