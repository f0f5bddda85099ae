"""Every durable queue of the platform is a quorum queue.

A classic queue lives on one node of the cluster: when that node is lost, so are its messages. A quorum queue is
replicated (Raft) on the cluster's nodes and goes on while a majority of them is up. The type is fixed when a queue
is created, by the ``x-queue-type`` argument (a policy cannot change it), and every declaration of the queue must
carry the same argument or RabbitMQ refuses it (PRECONDITION_FAILED, inequivalent arg): so every place that
declares one of our durable queues builds it here. Quorum queues are durable, never exclusive or auto-delete, and
take per-consumer prefetch only (kombu's ``qos`` default, ``apply_global=False``); queues a process owns for a
moment (reply queues, tests' probes, the demo's vendor view) stay classic.
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue

QUEUE_TYPE = "x-queue-type"
QUORUM = "quorum"


def quorum_arguments(arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """``arguments`` with the queue type set to quorum."""
    return {**(arguments or {}), QUEUE_TYPE: QUORUM}


def quorum_queue(
    name: str,
    exchange: Exchange | None = None,
    routing_key: str | None = None,
    arguments: dict[str, Any] | None = None,
) -> Queue:
    """A durable quorum queue, bound to ``exchange`` by ``routing_key`` when given."""
    return Queue(
        name,
        exchange=exchange,
        routing_key=routing_key,
        durable=True,
        auto_delete=False,
        queue_arguments=quorum_arguments(arguments),
    )


def as_quorum(queue: Queue) -> Queue:
    """``queue`` (durable, built by someone else, e.g. nameko's event handler) declared as a quorum queue."""
    # kombu sets its entities' attributes from a table at run time: its stubs do not know them.
    queue.queue_arguments = quorum_arguments(queue.queue_arguments)  # type: ignore[attr-defined]
    return queue
