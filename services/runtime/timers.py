"""Periodic work whose interval is configuration: read when the service starts, never when its module is imported.

nameko's ``@timer(interval=…)`` fixes the interval as the class body runs, so ``@timer(interval=get_settings().x)``
reads settings at import and a test can only wait the production interval out. ``@every("x")`` names the setting
instead, read with the container's ``SETTINGS`` overrides like every other (services/runtime/wiring.py; a test
shortens it with ``running(Service, amqp_uri, SETTINGS={"x": 0.2})``), and each run is counted
(``hocba_timer_runs_total``), so a test waits for runs to happen rather than for time to pass.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import Timer

from services.runtime import metrics
from services.runtime.wiring import container_settings


class SettingsTimer(Timer):
    def __init__(self, setting: str, **kwargs: Any) -> None:
        self.setting = setting
        super().__init__(interval=None, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.interval = float(getattr(container_settings(self.container.config), self.setting))

    def handle_result(self, worker_ctx: Any, result: Any, exc_info: Any) -> Any:
        # Counted once the run is over (failed or not), before the next one may start.
        metrics.TIMER_RUNS.labels(self.container.service_name, self.method_name).inc()
        return super().handle_result(worker_ctx, result, exc_info)


def every(setting: str, **kwargs: Any) -> Any:
    """Decorate a service method to run every ``Settings.<setting>`` seconds (the first run one interval in)."""
    return SettingsTimer.decorator(setting, **kwargs)


def timer_runs(service: str, method: str) -> float:
    """How many runs of ``service``'s ``method`` timer have finished in this process."""
    return metrics.TIMER_RUNS.labels(service, method)._value.get()
