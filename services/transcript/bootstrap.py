"""The transcript service's wiring: the one place it reads settings and builds its adapters."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime.data_key import DataVault
from services.runtime.settings import Settings
from services.transcript.app.handlers import Assembly


@dataclass(frozen=True)
class TranscriptAdapters:
    assembly: Assembly  # the lookup portal, the data vault and the cutoffs each year record is built with


def bootstrap(settings: Settings) -> TranscriptAdapters:
    return TranscriptAdapters(
        assembly=Assembly(
            lookup_base_url=settings.lookup_base_url,
            vault=DataVault.from_settings(settings),
            cutoffs=settings.sync_cutoffs,
        )
    )
