"""The database jobs: the migration Job and the nightly prune, as the migration role, with every service's URL."""

from __future__ import annotations

import json
from typing import Any

from cli.manifests.names import IMAGE, MIGRATOR, PG_RW, meta, pg_secret
from cli.registry import SERVICES

_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
_POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def database_env() -> list[dict[str, Any]]:
    """The migration role's login, over a direct connection (DDL and Alembic's session need no pooler), to every
    service's database; and which role each service's processes log in as, for the migrations' grants."""
    secret = pg_secret(MIGRATOR)
    return [
        {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": secret, "key": "username"}}},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}},
        *(
            {
                "name": f"HOCBA_DB_URL_{name.upper()}",
                "value": f"postgresql+psycopg://$(DB_USER):$(DB_PASSWORD)@{PG_RW}:5432/hocba_{name}",
            }
            for name in SERVICES
        ),
        # Audit's writer is HOCBA_AUDIT_DB_ROLE (hocba-config or its default), granted append-only by its migrations.
        {
            "name": "HOCBA_DB_SERVICE_ROLES",
            "value": json.dumps({name: name for name in SERVICES if name != "audit"}),
        },
    ]


def _container(name: str, args: list[str], resources: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"{IMAGE}:latest",
        "args": args,
        "envFrom": [{"configMapRef": {"name": "hocba-config"}}],
        "env": database_env(),
        **({"resources": resources} if resources else {}),
        "securityContext": _SECURITY,
    }


def migration_job() -> dict[str, Any]:
    """Migrations run as their own step, never inside a service's start-up: `hocba db upgrade`, every service."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta("hocba-migrate", "migration"),
        "spec": {
            "backoffLimit": 3,
            "template": {
                "spec": {
                    "restartPolicy": "OnFailure",
                    "securityContext": _POD_SECURITY,
                    "containers": [_container("migrate", ["db", "upgrade"])],
                }
            },
        },
    }


def prune_cronjob() -> dict[str, Any]:
    """Nightly: published outbox rows and inbox claims older than 14 days (events still owed are never touched)."""
    resources = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta("hocba-prune", "maintenance"),
        "spec": {
            "schedule": "30 3 * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "securityContext": _POD_SECURITY,
                            "containers": [
                                _container("prune", ["db", "prune", "--older-than", "14d"], resources)
                            ],
                        }
                    },
                }
            },
        },
    }
