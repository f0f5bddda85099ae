"""What every generated manifest shares: the platform's object names, ports, labels and who calls whom."""

from __future__ import annotations

import hashlib
import re
from typing import Any

PART_OF = "hocba"
RABBIT = "hocba-rabbitmq"
# The cluster's queues are quorum queues, replicated on its 3 nodes (services/runtime/queues.py says why only there).
QUEUE_TYPE = "quorum"
PG = "hocba-pg"
PG_RW = f"{PG}-rw"  # CloudNativePG's Service of the primary: a direct connection (migrations, prune)
# PgBouncer in transaction mode, for the services and relays that keep no session state (prepare_threshold=None,
# HOCBA_DB_TRANSACTION_POOLING); in session mode, for the audit writer's processes, whose connections are theirs.
POOLER = "hocba-pg-pooler-rw"
SESSION_POOLER = "hocba-pg-pooler-session"
# The LOGIN role that owns every service's database and runs the migrations (the Job); each service's processes log
# in as a role of their own (the service's name; audit's writer is HOCBA_AUDIT_DB_ROLE), granted by the migrations.
MIGRATOR = "hocba_migrator"
IMAGE = "ghcr.io/hocba/hocba"
HTTP_PORT = 8000
METRICS_PORT = 9100
PKI_DIR = "/etc/hocba/pki"
# Who fetches documents from whom over HTTP (service token); what reaches whom follows from it (network.py).
CALLS: dict[str, tuple[str, ...]] = {"signing": ("transcript",), "sync": ("signing",)}


def pg_secret(login: str) -> str:
    """The Secret of a database login (username, password): the migration role's, or a service's."""
    return f"{PG}-{'migrator' if login == MIGRATOR else login}"


def app_labels(name: str) -> dict[str, str]:
    """The labels that select a workload's pods (a service's, or a relay's)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def meta(name: str, component: str, **labels: str) -> dict[str, Any]:
    return {
        "name": name,
        "labels": {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/component": component,
            **labels,
        },
    }


def k8s_name(text: str) -> str:
    """A valid object name; long ones keep a hash of the full text so that two never collide."""
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if len(slug) <= 63:
        return slug
    return f"{slug[:54].rstrip('-')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def broker_user(principal: str) -> str:
    """The Topology Operator's User object of a principal of the broker table."""
    return f"{principal}-rabbitmq"


def broker_credentials(principal: str) -> str:
    """The Secret the Topology Operator writes that user's generated name and password into."""
    return f"{broker_user(principal)}-user-credentials"
