"""Liveness: healthy while consuming; 503 once the consumer's broker link stays dead past the grace period.

The outage is reported through kombu's own callbacks on the real running consumer: stopping the shared broker
would break every other test, and deleting a vhost makes nameko's consumer die rather than retry.
"""

import time

import pytest

from services.audit.service import AuditService
from services.runtime import http_client
from services.runtime.handlers import MonitoredQueueConsumer, broker_links
from tests.helpers import running, wait_for

pytestmark = pytest.mark.integration


def test_liveness_follows_the_consumers_broker_link(amqp_uri, service_databases):
    broker_links.pop("audit", None)  # an earlier test's container left its link here (one per process)
    with running(AuditService, amqp_uri) as container:
        url = f"{container.http_url}/healthz"
        wait_for(lambda: http_client.get(url).status_code == 200, timeout=10, what="a heartbeat")
        # Set by kombu's on_consume_ready once consuming began, which may come after the first heartbeat.
        wait_for(lambda: "audit" in broker_links and broker_links["audit"].connected, what="consuming began")
        consumer = next(e for e in container.subextensions if isinstance(e, MonitoredQueueConsumer))
        consumer.on_connection_error(ConnectionRefusedError("broker down"), 2.0)  # kombu, retrying
        assert http_client.get(url).status_code == 200  # within the grace period: nameko reconnects by itself
        broker_links["audit"].since = time.monotonic() - 120  # …and the grace period has passed
        dead = http_client.get(url)
        assert dead.status_code == 503 and dead.json()["status"] == "broker link dead"
        consumer.on_consume_ready(None, None, [])  # kombu reconnected
        assert http_client.get(url).status_code == 200


def test_a_consumer_reports_its_queue_depth_as_a_metric(amqp_uri, service_databases):
    from services.runtime.http import HealthEndpoints
    from services.runtime.metrics import QUEUE_DEPTH

    with running(AuditService, amqp_uri):
        HealthEndpoints._observe_queues(AuditService())  # what the 15 s timer runs
    queues = {
        labels.get("queue")
        for metric in QUEUE_DEPTH.collect()
        for labels in (s.labels for s in metric.samples)
        if labels.get("service") == "audit"
    }
    assert any(q.endswith("--audit.on_gradebook_audit") for q in queues)
