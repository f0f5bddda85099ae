"""The sync service's wiring: the one place it reads settings and builds its adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from services.runtime.calendar import reporting_day
from services.runtime.data_key import DataVault
from services.runtime.documents import RemoteDocuments
from services.runtime.settings import Settings
from services.sync.adapters.gateway import GatewayClient
from services.sync.app.credentials import GatewayCredentials
from services.sync.domain.breaker import CircuitBreaker
from services.sync.domain.rules import Backoff


@dataclass(frozen=True)
class SyncAdapters:
    gateway: GatewayClient  # the province's receiving gateway
    documents: RemoteDocuments  # the signing service's sealed documents
    credentials: GatewayCredentials  # each school's gateway token, sealed under the data key
    cutoffs: dict[str, str]  # MM-DD of the province's reporting cutoffs
    today: Callable[[], date]  # the reporting day: the calendar's in production; rehearsals and tests move it
    # This replica's view of the gateway's health, shared by every run of the submission worker.
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    backoff: Backoff = field(default_factory=Backoff)


def bootstrap(settings: Settings) -> SyncAdapters:
    return SyncAdapters(
        gateway=GatewayClient(settings.gateway_url, settings.gateway_timeout_seconds),
        documents=RemoteDocuments(settings.signing_url, settings, caller="sync"),
        credentials=GatewayCredentials(DataVault.from_settings(settings)),
        cutoffs=settings.sync_cutoffs,
        today=reporting_day(settings),
    )
