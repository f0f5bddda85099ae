"""The NetworkPolicies: each pod reachable only by its callers, and reaching only what it needs."""

from __future__ import annotations

from typing import Any

from cli.manifests import names as m
from cli.registry import SERVICES

# From outside the namespace, by the namespace's name (the kubernetes.io/metadata.name label Kubernetes sets
# itself): users' requests come through the ingress controller, Prometheus scrapes /metrics. An overlay whose
# cluster names them otherwise patches the two policies' namespaceSelector.
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"

# Outside the cluster, each destination by its own address and ports, for the services that need it: the
# identity provider (JWKS and token endpoint: every service), the timestamp authority and the CA's CRLs (signing),
# the province's gateway (sync). Relays need nothing outside. The base names documentation addresses (RFC 5737),
# which reach nothing: an overlay sets the real ones in NetworkPolicy egress-<destination>
# (/spec/egress/0/to/0/ipBlock/cidr), so no pod may reach the whole internet unless someone writes that down.
EXTERNAL: dict[str, tuple[str, tuple[int, ...]]] = {
    "identity-provider": ("192.0.2.10/32", (443,)),
    "timestamp-authority": ("192.0.2.20/32", (80, 443)),
    "province-gateway": ("192.0.2.30/32", (443,)),
}
NEEDS: dict[str, tuple[str, ...]] = {
    "identity-provider": tuple(SERVICES),
    "timestamp-authority": ("signing",),
    "province-gateway": ("sync",),
}


def _app(name: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": m.app_labels(name)}}


def _namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def callers_of(name: str) -> list[str]:
    return sorted(caller for caller, callees in m.CALLS.items() if name in callees)


def _platform_egress() -> list[dict[str, Any]]:
    """What every pod of ours reaches: the broker, the database (directly or through a pooler), DNS."""
    return [
        {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": m.RABBIT}}}], "ports": _tcp(5672)},
        {
            "to": [
                {"podSelector": {"matchLabels": {"cnpg.io/cluster": m.PG}}},
                {"podSelector": {"matchLabels": {"cnpg.io/poolerName": m.POOLER}}},
                {"podSelector": {"matchLabels": {"cnpg.io/poolerName": m.SESSION_POOLER}}},
            ],
            "ports": _tcp(5432),
        },
        {
            "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
    ]


def service_policies(name: str) -> list[dict[str, Any]]:
    """A service's pods: HTTP from users (the ingress controller), Prometheus and the services that call it; out to
    the platform and the services it calls. Its relay: metrics from Prometheus; out to the platform only. What
    they reach outside the cluster is in ``egress_policies``."""
    service = {
        "podSelector": {"matchLabels": m.app_labels(name)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [_namespace(INGRESS_NAMESPACE), _namespace(MONITORING_NAMESPACE)]
                + [_app(caller) for caller in callers_of(name)],
                "ports": _tcp(m.HTTP_PORT),
            }
        ],
        "egress": [
            *_platform_egress(),
            *({"to": [_app(callee)], "ports": _tcp(m.HTTP_PORT)} for callee in m.CALLS.get(name, ())),
        ],
    }
    relay = {
        "podSelector": {"matchLabels": m.app_labels(f"{name}-relay")},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [_namespace(MONITORING_NAMESPACE)], "ports": _tcp(m.METRICS_PORT)}],
        "egress": _platform_egress(),
    }
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": m.meta(n, "network"),
            "spec": s,
        }
        for n, s in ((name, service), (f"{name}-relay", relay))
    ]


def egress_policies() -> list[dict[str, Any]]:
    """One policy per destination outside the cluster, selecting exactly the services that need it (policies add
    up), so an overlay sets each address in one place."""
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": m.meta(f"egress-{destination}", "network"),
            "spec": {
                "podSelector": {
                    "matchLabels": {"app.kubernetes.io/part-of": m.PART_OF},
                    "matchExpressions": [
                        {
                            "key": "app.kubernetes.io/name",
                            "operator": "In",
                            "values": sorted(NEEDS[destination]),
                        }
                    ],
                },
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": cidr}}], "ports": _tcp(*ports)}],
            },
        }
        for destination, (cidr, ports) in EXTERNAL.items()
    ]
