"""The gradebook service's wiring: the one place it reads settings and builds its adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from services.runtime.calendar import reporting_day
from services.runtime.data_key import DataVault
from services.runtime.settings import Settings


@dataclass(frozen=True)
class GradebookAdapters:
    vault: DataVault  # seals students' personal ids and details on import
    import_max_rows: int  # most rows one import may hold
    today: Callable[
        [], date
    ]  # the reporting day amendments are checked against (Vietnam's, or a rehearsal's)
    cutoffs: dict[str, str]  # MM-DD of the province's reporting cutoffs, per path


def bootstrap(settings: Settings) -> GradebookAdapters:
    return GradebookAdapters(
        vault=DataVault.from_settings(settings),
        import_max_rows=settings.import_max_rows,
        today=reporting_day(settings),
        cutoffs=settings.sync_cutoffs,
    )
