"""The services that exist, where their nameko classes live and which local port each serves HTTP on."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    target: str  # "module:Class"
    base_port: int

    @property
    def port(self) -> int:
        return port_of(self.name, self.base_port)

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


def port_of(name: str, base: int, env: Mapping[str, str] = os.environ) -> int:
    """Where ``name`` (a service or a stand-in) serves HTTP on this machine: ``HOCBA_PORT_<NAME>`` when whoever
    starts the stack chose the port (tests take theirs from the OS), else ``base`` + ``HOCBA_PORT_OFFSET`` (an
    offset puts a second stack, a colleague's or a benchmark's, beside the usual one)."""
    chosen = env.get(f"HOCBA_PORT_{name.upper()}")
    return int(chosen) if chosen else base + int(env.get("HOCBA_PORT_OFFSET", "0"))


# What a province provides, simulated on this machine: the gateway, the development token issuer and the remote
# signer belong to one stack each. The TSA/CRL Animator is shared by every local stack: its port is the one the
# test PKI's certificates name (as a real CA's CRL and TSA addresses are fixed in its certificates).
STAND_INS = {"gateway": 8700, "gateway_admin": 8701, "issuer": 8710, "remote_signer": 9898}
ANIMATOR_PORT = 9797


def stand_in_port(name: str, env: Mapping[str, str] = os.environ) -> int:
    return port_of(name, STAND_INS[name], env)


def stack_port_names() -> list[str]:
    """Every port a stack of its own needs chosen (``HOCBA_PORT_<NAME>``): its services' and its stand-ins'."""
    return [*SERVICES, *STAND_INS]


def gateway_url() -> str:
    return f"http://127.0.0.1:{stand_in_port('gateway')}"


def gateway_admin_url() -> str:
    """The gateway's admin API (clock, faults, stats): a port of its own, never beside the public portal."""
    return f"http://127.0.0.1:{stand_in_port('gateway_admin')}"


def issuer_url() -> str:
    """The development token issuer (sandbox/issuer.py): JWKS and the client-credentials token endpoint."""
    return f"http://127.0.0.1:{stand_in_port('issuer')}"


def remote_signer_url() -> str:
    return f"http://127.0.0.1:{stand_in_port('remote_signer')}"


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
