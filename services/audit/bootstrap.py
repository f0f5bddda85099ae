"""The audit service's wiring: the one place it reads settings and builds its adapters."""

from __future__ import annotations

from dataclasses import dataclass

from pyhanko.sign.timestamps.api import TimeStamper

from services.runtime.data_key import DataVault
from services.runtime.settings import Settings
from services.runtime.timestamps import HttpxTimeStamper


@dataclass(frozen=True)
class AuditAdapters:
    timestamper: TimeStamper  # the TSA that timestamps each chain's head
    vault: DataVault  # keys the pseudonyms of personal values a service sent by mistake


def bootstrap(settings: Settings) -> AuditAdapters:
    return AuditAdapters(
        timestamper=HttpxTimeStamper(settings.tsa_url), vault=DataVault.from_settings(settings)
    )
