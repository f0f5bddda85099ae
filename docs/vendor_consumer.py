"""A vendor's subscriber to hocba.public: the example in docs/vendors.md (kept runnable and tested)."""

from kombu import Connection, Exchange, Queue


def subscribe(amqp_uri: str, vendor: str, handle, types: str = "vn.hocba.#", limit: int | None = None) -> int:
    """Receive CloudEvents (AMQP binary mode) until ``limit`` events; ``handle(attributes, data)`` per event."""
    exchange = Exchange("hocba.public", type="topic", durable=True, passive=True)
    # A quorum queue: replicated on the broker's nodes, so a node lost loses none of your events.
    queue = Queue(
        f"vendor-{vendor}-events",
        exchange,
        routing_key=types,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    received = 0
    with Connection(amqp_uri) as conn:

        def on_message(body, message):
            nonlocal received
            attributes = {k[3:]: v for k, v in message.headers.items() if k.startswith("ce-")}
            handle(attributes, body)  # deduplicate on attributes["id"]: delivery is at least once
            message.ack()
            received += 1

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"], prefetch_count=20):
            while limit is None or received < limit:
                conn.drain_events(timeout=30)
    return received
