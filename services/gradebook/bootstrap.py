"""The gradebook service's wiring: the one place it reads settings and builds its adapters."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime.data_key import DataVault
from services.runtime.settings import Settings


@dataclass(frozen=True)
class GradebookAdapters:
    vault: DataVault  # seals students' personal ids and details on import
    import_max_rows: int  # most rows one import may hold


def bootstrap(settings: Settings) -> GradebookAdapters:
    return GradebookAdapters(
        vault=DataVault.from_settings(settings), import_max_rows=settings.import_max_rows
    )
