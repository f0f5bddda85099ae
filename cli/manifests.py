"""Kubernetes base manifests generated from the code's own topology, so queues and policies never drift."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from cli.registry import SERVICES

PART_OF = "hocba"
RABBIT = "hocba-rabbitmq"
PG = "hocba-pg"
POOLER = "hocba-pg-pooler-rw"
IMAGE = "ghcr.io/hocba/hocba"
HTTP_PORT = 8000
METRICS_PORT = 9100
PKI_DIR = "/etc/hocba/pki"
# Who fetches documents from whom over HTTP (service token), and who talks to the outside world: the TSA and CRL
# servers (signing), the province's gateway (sync).
CALLS: dict[str, tuple[str, ...]] = {"signing": ("transcript",), "sync": ("signing",)}
OUTSIDE = frozenset({"signing", "sync"})


def _meta(name: str, component: str, **labels: str) -> dict[str, Any]:
    return {
        "name": name,
        "labels": {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/component": component,
            **labels,
        },
    }


def _k8s_name(text: str) -> str:
    """A valid object name; long ones keep a hash of the full text so that two never collide."""
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if len(slug) <= 63:
        return slug
    return f"{slug[:54].rstrip('-')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _env(service: str, relay: bool = False) -> list[dict[str, Any]]:
    upper = service.upper()
    return [
        {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": f"{PG}-{service}", "key": "username"}}},
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": f"{PG}-{service}", "key": "password"}},
        },
        {
            "name": "AMQP_USER",
            "valueFrom": {
                "secretKeyRef": {"name": f"{service}-rabbitmq-user-credentials", "key": "username"}
            },
        },
        {
            "name": "AMQP_PASSWORD",
            "valueFrom": {
                "secretKeyRef": {"name": f"{service}-rabbitmq-user-credentials", "key": "password"}
            },
        },
        # Kubernetes expands $(VAR) from the variables above; passwords must be URL-safe (the secrets are generated).
        {
            "name": f"HOCBA_DB_URL_{upper}",
            "value": f"postgresql+psycopg://$(DB_USER):$(DB_PASSWORD)@{POOLER}:5432/hocba_{service}",
        },
        {"name": "HOCBA_AMQP_URI", "value": f"amqp://$(AMQP_USER):$(AMQP_PASSWORD)@{RABBIT}:5672/"},
        {
            "name": "HOCBA_DATA_KEY",
            "valueFrom": {"secretKeyRef": {"name": "hocba-secrets", "key": "data-key"}},
        },
        *(
            {"name": f"HOCBA_{callee.upper()}_URL", "value": f"http://{callee}:{HTTP_PORT}"}
            for callee in CALLS.get(service, ())
        ),
        *(_signing_env() if service == "signing" else []),
        *(_oauth_client_env(service) if service in CALLS and not relay else []),
    ]


def _oauth_client_env(service: str) -> list[dict[str, Any]]:
    """A service that calls another gets its own OAuth2 client at the identity provider (client credentials):
    a secret the provider can revoke, never a key that signs tokens."""
    return [
        {"name": "HOCBA_OAUTH_CLIENT_ID", "value": service},
        {
            "name": "HOCBA_OAUTH_CLIENT_SECRET",
            "valueFrom": {"secretKeyRef": {"name": f"hocba-oauth-{service}", "key": "client-secret"}},
        },
    ]


def _signing_env() -> list[dict[str, Any]]:
    """The seal's HSM (module and token from the hocba-pkcs11 ConfigMap, the PIN from a secret) and the trust
    anchors, mounted from the hocba-trust ConfigMap."""
    return [
        {
            "name": "HOCBA_PKCS11_PIN",
            "valueFrom": {"secretKeyRef": {"name": "hocba-pkcs11-pin", "key": "pin"}},
        },
        {"name": "HOCBA_TRUST_ROOTS", "value": f"{PKI_DIR}/roots.pem"},
        {"name": "HOCBA_CA_CHAIN", "value": f"{PKI_DIR}/chain.pem"},
    ]


def _container(
    name: str,
    args: list[str],
    service: str,
    ports: list[dict[str, Any]],
    probes: dict[str, Any],
    resources: dict[str, Any],
    relay: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"{IMAGE}:latest",
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": ports,
        "envFrom": [
            {"configMapRef": {"name": "hocba-config"}},
            # Where tokens are verified (the identity provider's JWKS, issuer, audiences): services only, a relay
            # serves no request and gets no token settings at all.
            *([] if relay else [{"configMapRef": {"name": "hocba-auth"}}]),
            *([{"configMapRef": {"name": "hocba-pkcs11"}}] if service == "signing" else []),
        ],
        "env": _env(service, relay),
        **probes,
        "resources": resources,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *([{"name": "pki", "mountPath": PKI_DIR, "readOnly": True}] if service == "signing" else []),
        ],
    }


def _pod(labels: dict[str, str], container: dict[str, Any], grace: int) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            # nameko loses in-flight acks on SIGTERM (the inbox absorbs the redelivery); let handlers finish first.
            "terminationGracePeriodSeconds": grace,
            "containers": [container],
            "volumes": [
                {"name": "tmp", "emptyDir": {}},
                *(
                    # Provided per deployment, never by the base: the test PKI in overlays/dev, the province's
                    # roots in production (docs/operators.md). Optional, so that without it the service starts
                    # and exits saying HOCBA_TRUST_ROOTS is missing instead of hanging in ContainerCreating.
                    [{"name": "pki", "configMap": {"name": "hocba-trust", "optional": True}}]
                    if any(m["name"] == "pki" for m in container["volumeMounts"])
                    else []
                ),
            ],
        },
    }


def service_objects(name: str, port: int, queues: list[str]) -> list[dict[str, Any]]:
    relay = f"{name}-relay"
    objects: list[dict[str, Any]] = []
    http_probe = {
        "startupProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 2,
            "failureThreshold": 30,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5},
    }
    resources = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}
    container = _container(
        name,
        ["run", name, "--port", str(HTTP_PORT)],
        name,
        [{"name": "http", "containerPort": HTTP_PORT}],
        http_probe,
        resources,
    )
    container["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    objects.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(name, "service"),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": _pod(labels, container, 60),
            },
        }
    )
    relay_labels = {"app.kubernetes.io/name": relay, "app.kubernetes.io/part-of": PART_OF}
    relay_probe = {"livenessProbe": {"tcpSocket": {"port": "metrics"}, "periodSeconds": 10}}
    relay_container = _container(
        "relay",
        ["relay", name, "--metrics-port", str(METRICS_PORT)],
        name,
        [{"name": "metrics", "containerPort": METRICS_PORT}],
        relay_probe,
        {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        relay=True,
    )
    objects.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(relay, "outbox-relay"),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": relay_labels},
                "template": _pod(relay_labels, relay_container, 30),
            },
        }
    )
    for svc_name, svc_labels, port_name, number in (
        (name, labels, "http", HTTP_PORT),
        (relay, relay_labels, "metrics", METRICS_PORT),
    ):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(svc_name, "service"),
                "spec": {
                    "selector": svc_labels,
                    "ports": [{"name": port_name, "port": number, "targetPort": port_name}],
                },
            }
        )
        objects.append(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "ServiceMonitor",
                "metadata": _meta(svc_name, "monitoring"),
                "spec": {
                    "selector": {"matchLabels": {"app.kubernetes.io/name": svc_name}},
                    "endpoints": [{"port": port_name, "path": "/metrics", "interval": "30s"}],
                },
            }
        )
        objects.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": _meta(svc_name, "availability"),
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": svc_labels}},
            }
        )
    egress = [
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": RABBIT}}}],
            "ports": [{"protocol": "TCP", "port": 5672}],
        },
        {
            "to": [
                {"podSelector": {"matchLabels": {"cnpg.io/cluster": PG}}},
                {"podSelector": {"matchLabels": {"cnpg.io/poolerName": POOLER}}},
            ],
            "ports": [{"protocol": "TCP", "port": 5432}],
        },
        {
            "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
    ]
    service_egress = [
        *egress,
        *(
            {
                "to": [
                    {
                        "podSelector": {
                            "matchLabels": {
                                "app.kubernetes.io/name": callee,
                                "app.kubernetes.io/part-of": PART_OF,
                            }
                        }
                    }
                ],
                "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
            }
            for callee in CALLS.get(name, ())
        ),
        *(
            [
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                    "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 80}],
                }
            ]
            if name in OUTSIDE
            else [
                # The identity provider's JWKS over HTTPS (its address is the province's; narrow it in an overlay).
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}
            ]
        ),
    ]
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(name, "network"),
            "spec": {
                "podSelector": {"matchLabels": labels},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"protocol": "TCP", "port": HTTP_PORT}]}],
                "egress": service_egress,
            },
        }
    )
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(relay, "network"),
            "spec": {
                "podSelector": {"matchLabels": relay_labels},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"protocol": "TCP", "port": METRICS_PORT}]}],
                "egress": egress,
            },
        }
    )
    if queues:
        trigger = {
            "type": "rabbitmq",
            "authenticationRef": {"name": "hocba-rabbitmq-management"},
            "metadata": {
                "protocol": "http",
                "mode": "QueueLength",
                "value": "100",
                "useRegex": "true",
                "operation": "sum",
                "queueName": f"^evt-.*--{re.escape(name)}\\..*$",
                "vhostName": "/",
            },
        }
    else:  # serves HTTP only: scale on CPU
        trigger = {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}
    objects.append(
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": _meta(name, "autoscaling"),
            "spec": {
                "scaleTargetRef": {"name": name},
                "minReplicaCount": 1,
                "maxReplicaCount": 10,
                "pollingInterval": 15,
                "cooldownPeriod": 120,
                "triggers": [trigger],
            },
        }
    )
    objects.append(
        {
            "apiVersion": "rabbitmq.com/v1beta1",
            "kind": "User",
            "metadata": _meta(f"{name}-rabbitmq", "broker"),
            "spec": {"rabbitmqClusterReference": {"name": RABBIT}},
        }
    )
    objects.append(
        {
            "apiVersion": "rabbitmq.com/v1beta1",
            "kind": "Permission",
            "metadata": _meta(f"{name}-rabbitmq", "broker"),
            "spec": {
                "vhost": "/",
                "userReference": {"name": f"{name}-rabbitmq"},
                "permissions": {
                    "configure": f"^(evt-.*--{name}\\..*|{name}\\.events|hocba\\..*)$",
                    "write": ".*",
                    "read": ".*",
                },
                "rabbitmqClusterReference": {"name": RABBIT},
            },
        }
    )
    objects.append(
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Database",
            "metadata": _meta(f"hocba-{name}", "database"),
            "spec": {"name": f"hocba_{name}", "owner": name, "cluster": {"name": PG}},
        }
    )
    return objects


def topology_objects() -> list[dict[str, Any]]:
    from services.runtime.broker import UNROUTED, policies_for, subscriptions_of
    from services.runtime.settings import Settings

    settings = Settings()
    subscriptions = [s for e in SERVICES.values() for s in subscriptions_of(e.load())]
    ref = {"rabbitmqClusterReference": {"name": RABBIT}}
    objects: list[dict[str, Any]] = []
    exchanges = {f"{s}.events": "topic" for s in {*SERVICES, *(x.source_service for x in subscriptions)}}
    exchanges.update(
        {settings.public_exchange: "topic", settings.dead_letter_exchange: "direct", UNROUTED: "fanout"}
    )
    for exchange, kind in sorted(exchanges.items()):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Exchange",
                "metadata": _meta(_k8s_name(exchange), "broker"),
                "spec": {"name": exchange, "type": kind, "durable": True, "autoDelete": False, **ref},
            }
        )
    # Classic durable queues with no arguments: exactly what nameko redeclares at start-up.
    for queue in sorted(
        [UNROUTED, *(s.queue for s in subscriptions), *(s.dead_letter_queue for s in subscriptions)]
    ):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Queue",
                "metadata": _meta(_k8s_name(queue), "broker"),
                "spec": {"name": queue, "durable": True, "autoDelete": False, **ref},
            }
        )
    bindings = [(f"{s.source_service}.events", s.queue, s.event_model.routing_key()) for s in subscriptions]
    bindings += [
        (settings.dead_letter_exchange, s.dead_letter_queue, s.dead_letter_queue) for s in subscriptions
    ]
    bindings.append((UNROUTED, UNROUTED, ""))
    for source, destination, key in sorted(bindings):
        objects.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Binding",
                "metadata": _meta(_k8s_name(f"bind-{destination}"), "broker"),
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
                "metadata": _meta(_k8s_name(policy.name), "broker"),
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
    # Vendors read the public exchange only, through queues named vendor-<name>.
    objects.append(
        {
            "apiVersion": "rabbitmq.com/v1beta1",
            "kind": "User",
            "metadata": _meta("vendor-example", "broker"),
            "spec": ref,
        }
    )
    objects.append(
        {
            "apiVersion": "rabbitmq.com/v1beta1",
            "kind": "Permission",
            "metadata": _meta("vendor-example", "broker"),
            "spec": {
                "vhost": "/",
                "userReference": {"name": "vendor-example"},
                "permissions": {
                    "configure": "^vendor-example-.*$",
                    "write": "^vendor-example-.*$",
                    "read": f"^(vendor-example-.*|{re.escape(settings.public_exchange)})$",
                },
                **ref,
            },
        }
    )
    return objects


def render(base: Path) -> list[Path]:
    """Write base/*.yaml and base/kustomization.yaml; returns the files written."""
    from services.runtime.broker import subscriptions_of

    base.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[dict[str, Any]]] = {}
    for entry in SERVICES.values():
        queues = [s.queue for s in subscriptions_of(entry.load())]
        files[f"{entry.name}.yaml"] = service_objects(entry.name, entry.port, queues)
    files["rabbitmq-topology.yaml"] = topology_objects()
    header = "# Generated by `hocba deploy manifests` from the code's topology — do not edit by hand.\n"
    written = []
    for name, objects in files.items():
        path = base / name
        path.write_text(header + yaml.safe_dump_all(objects, sort_keys=False, allow_unicode=True, width=120))
        written.append(path)
    static = sorted(
        p.name for p in base.glob("*.yaml") if p.name not in files and p.name != "kustomization.yaml"
    )
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "labels": [{"pairs": {"app.kubernetes.io/part-of": PART_OF}}],
        "resources": sorted([*files, *static]),
    }
    (base / "kustomization.yaml").write_text(header + yaml.safe_dump(kustomization, sort_keys=False))
    return written
