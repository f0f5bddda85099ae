"""The type of the platform's durable queues: one setting, ``queue_type`` (``HOCBA_QUEUE_TYPE``), classic or quorum.

Every durable queue of the platform (each subscription's queue, ``.retry`` and ``.dlq``, and ``hocba.unrouted``) is
declared with the type the settings name, by `hocba broker setup`, by the reliable handler and by nameko when its
consumer (re)connects: so every place that declares one builds it here. The type is fixed when a queue is created,
by the ``x-queue-type`` argument (a policy cannot change it), and every later declaration must carry the same one or
RabbitMQ refuses it (PRECONDITION_FAILED, inequivalent arg); `broker setup` replaces an empty queue of the other type
and refuses one that holds messages (services/runtime/broker.py, migrate_queue_type).

**Quorum in the Kubernetes cluster and in the test suite; classic by default on a development broker — and why.** A classic queue lives
on one node: on the 3-node cluster, when that node is lost so are its messages. A quorum queue is replicated (Raft)
and goes on while a majority of nodes is up, so the manifests set ``HOCBA_QUEUE_TYPE=quorum``. On one node a quorum
queue replicates nothing, and on RabbitMQ 3.x it costs something a classic queue does not: each quorum queue's
replica reserves file handles in the node's file handle cache (2, plus the cluster's size on its leader: 3 per queue
on one node, 5 on the leader's node of a 3-node cluster), always granted but counted against the cache's limit,
which the node derives from its open-files limit (``ulimit -n`` 1024 → 927 handles). Every new AMQP connection must
also obtain a handle there, and waits while the reservations use the limit up: past ~300 quorum queues on one node
it still accepts TCP but no new connection completes its handshake, for anyone, while the management API goes on
answering. That is the wedge that had quorum queues reverted (6f1e96a): the test suite makes a vhost per test module
(37 quorum queues in each that sets up the platform's topology) and keeps each stack's vhost until its run ends,
three pytest processes at once, beside demos and other checkouts' runs on the same node. Reproduced on a private
3.10.8 node with the same limit: 296 quorum queues (906 of 927 handles), connections answered; 333 (1,001), a new
connection timed out and the node logged nothing for it (not even "accepting AMQP connection") until the vhosts were
deleted, when it went through. The limit is read only at boot, and another user's running process cannot have it
raised here (prlimit: not permitted), so `make setup` restarts a local node that has less than 20,000 open files
once, with that many, and writes the limit to /etc/default/rabbitmq-server for later starts
(sandbox/local_stack.py). The test suite then runs every platform queue as a quorum queue (tests/conftest.py sets
HOCBA_QUEUE_TYPE=quorum, and stops at once, saying why, on a node with fewer than 5,000 open files instead of
hanging on it); tests/integration/operations/test_quorum_queues.py checks the topology and the outbox → relay →
handler → retry → dead-letter flow on them, and the broker's migration between the types. The development default
stays classic, for a broker nobody has raised (a classic queue's handles the cache may close and reuse). A
production node needs an open-files limit well above 5 handles per quorum queue plus its connections
(docs/operators.md).

Quorum queues are durable, never exclusive or auto-delete, and take per-consumer prefetch only (kombu's ``qos``
default, ``apply_global=False``); queues a process owns for a moment (reply queues, tests' probes, the demo's vendor
view) are not the platform's and stay classic.
"""

from __future__ import annotations

from typing import Any, Literal

from kombu import Exchange, Queue

QUEUE_TYPE = "x-queue-type"
CLASSIC = "classic"
QUORUM = "quorum"
QueueType = Literal["classic", "quorum"]


def typed_arguments(queue_type: QueueType, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """``arguments`` with the queue type set (RabbitMQ 3.10 takes ``classic`` as equivalent to no type at all, either
    way round, so a classic queue declared before this argument existed is redeclared as it is)."""
    return {**(arguments or {}), QUEUE_TYPE: queue_type}


def platform_queue(
    name: str,
    queue_type: QueueType,
    exchange: Exchange | None = None,
    routing_key: str | None = None,
    arguments: dict[str, Any] | None = None,
) -> Queue:
    """A durable queue of ``queue_type``, bound to ``exchange`` by ``routing_key`` when given."""
    return Queue(
        name,
        exchange=exchange,
        routing_key=routing_key,
        durable=True,
        auto_delete=False,
        queue_arguments=typed_arguments(queue_type, arguments),
    )


def with_type(queue: Queue, queue_type: QueueType) -> Queue:
    """``queue`` (durable, built by someone else, e.g. nameko's event handler) declared as ``queue_type``."""
    # kombu sets its entities' attributes from a table at run time: its stubs do not know them.
    queue.queue_arguments = typed_arguments(queue_type, queue.queue_arguments)  # type: ignore[attr-defined]
    return queue
