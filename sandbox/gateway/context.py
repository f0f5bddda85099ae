"""Everything a request handler needs, built once per process: database, clock, faults, verifier, cutoffs, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from sandbox.gateway.clock import Clock
from sandbox.gateway.domain.rules import Cutoffs
from sandbox.gateway.faults import Faults
from sandbox.gateway.portal.limits import FailureLimit
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
    # Wrong birth dates on the portal's PDF download, per client address.
    birth_date_failures: FailureLimit = field(default_factory=lambda: FailureLimit(5, 600))

    @property
    def secret(self) -> bytes:
        return self.settings.secret.get_secret_value().encode()
