"""Everything a request handler needs, built once per process: database, clock, faults, verifier, cutoffs, limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from sandbox.gateway.clock import Clock
from sandbox.gateway.domain.rules import Cutoffs
from sandbox.gateway.faults import Faults
from sandbox.gateway.portal.limits import AttemptLimits, Network
from sandbox.gateway.settings import GatewaySettings
from sandbox.gateway.verifiers import Verifier


@dataclass
class Context:
    settings: GatewaySettings
    engine: Engine
    clock: Clock
    faults: Faults
    verify_pdf: Verifier
    cutoffs: Cutoffs
    # Attempts at the portal's signed PDFs, per client address and per lookup code (in the database).
    attempts: AttemptLimits
    # Our own reverse proxies, whose X-Forwarded-For the portal believes.
    trusted_proxies: tuple[Network, ...] = ()

    @property
    def secret(self) -> bytes:
        return self.settings.secret.get_secret_value().encode()
