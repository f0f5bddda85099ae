"""The services that exist, where their nameko classes live and which local port each serves HTTP on."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    target: str  # "module:Class"
    base_port: int

    @property
    def port(self) -> int:
        # An offset lets a second stack (tests, a colleague's) run beside the usual one.
        return self.base_port + int(os.environ.get("HOCBA_PORT_OFFSET", "0"))

    def load(self) -> type:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


SERVICES: dict[str, ServiceEntry] = {
    e.name: e
    for e in (
        ServiceEntry("gradebook", "services.gradebook.service:GradebookService", 8001),
        ServiceEntry("transcript", "services.transcript.service:TranscriptService", 8002),
        ServiceEntry("signing", "services.signing.service:SigningService", 8003),
        ServiceEntry("sync", "services.sync.service:SyncService", 8004),
        ServiceEntry("audit", "services.audit.service:AuditService", 8005),
    )
}


# What a province provides, simulated on this machine. The TSA/CRL Animator is shared by every local stack; the
# remote signer and the gateway follow HOCBA_PORT_OFFSET like the services.
ANIMATOR_PORT = 9797


def stand_in_port(base: int) -> int:
    return base + int(os.environ.get("HOCBA_PORT_OFFSET", "0"))


def gateway_url() -> str:
    return f"http://127.0.0.1:{stand_in_port(8700)}"


def issuer_url() -> str:
    """The development token issuer (sandbox/issuer.py): JWKS and the client-credentials token endpoint."""
    return f"http://127.0.0.1:{stand_in_port(8710)}"


def remote_signer_url() -> str:
    return f"http://127.0.0.1:{stand_in_port(9898)}"


def entry(name: str) -> ServiceEntry:
    try:
        return SERVICES[name]
    except KeyError:
        raise SystemExit(f"unknown service {name!r}; available: {', '.join(SERVICES)}") from None


def local_url(name: str) -> str:
    """Where ``hocba up`` serves a service's HTTP on this machine."""
    return f"http://127.0.0.1:{entry(name).port}"


def dev_token(user: str, roles: list[str], school: str | None) -> str:
    """A development bearer token, signed by the sandbox issuer (what `hocba token` prints)."""
    from sandbox.issuer import mint_token
    from services.runtime.settings import get_settings

    return mint_token(get_settings(), user_id=user, roles=roles, school_id=school)
