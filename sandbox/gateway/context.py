"""Everything a request handler needs, built once per process: database, clock, faults, verifier, cutoffs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from sandbox.gateway.clock import Clock
from sandbox.gateway.domain.rules import Cutoffs
from sandbox.gateway.faults import Faults
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

    @property
    def secret(self) -> bytes:
        return self.settings.secret.get_secret_value().encode()
