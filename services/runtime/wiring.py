"""One wiring point per service: its ``bootstrap(settings)`` run once per container, the result injected.

Each service has a ``bootstrap.py``: the one place that reads its settings and builds its adapters (HTTP clients,
the TSA, the data vault, the reporting day…) into a frozen dataclass. ``Wiring(bootstrap)`` on the service class
builds that bundle once, in the container's ``setup()``, and hands the same one to every worker, so a service
method reads ``self.wiring.gateway``, never settings or a module-level instance.

Tests change the wiring through the container's config, not by patching modules:

- ``SETTINGS={"gateway_url": …}``: settings overridden for this container before ``bootstrap`` runs;
- ``ADAPTERS={"timestamper": FakeTimestamper(…)}``: fields of the built bundle replaced (``dataclasses.replace``).

For example ``running(AuditService, amqp_uri, ADAPTERS={"timestamper": tsa})`` in a test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, overload

from nameko.extensions import DependencyProvider

from services.runtime.settings import Settings, get_settings

# Container config keys (see the module docstring).
SETTINGS_KEY = "SETTINGS"
ADAPTERS_KEY = "ADAPTERS"

W = TypeVar("W")


def container_settings(config: Mapping[str, Any]) -> Settings:
    """The process's settings with this container's ``SETTINGS`` overrides (validated like the environment)."""
    overrides = config.get(SETTINGS_KEY) or {}
    settings = get_settings()
    if not overrides:
        return settings
    return Settings.model_validate({**settings.model_dump(), **overrides})


class Wiring(DependencyProvider, Generic[W]):
    """Injects what ``bootstrap`` built from the container's settings: one bundle per container."""

    def __init__(self, bootstrap: Callable[[Settings], W]) -> None:
        self.bootstrap = bootstrap
        self.adapters: W | None = None

    # Typed as the bundle on an instance (nameko sets the built one there), as the provider on the class.
    @overload
    def __get__(self, instance: None, owner: type) -> Wiring[W]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> W: ...
    def __get__(self, instance: object | None, owner: type) -> Any:
        return self

    def setup(self) -> None:
        adapters = self.bootstrap(container_settings(self.container.config))
        replaced = self.container.config.get(ADAPTERS_KEY) or {}
        if replaced:
            adapters = dataclasses.replace(adapters, **replaced)  # type: ignore[type-var]
        self.adapters = adapters

    def get_dependency(self, worker_ctx: object) -> W:
        assert self.adapters is not None, "the container has not set up its wiring"
        return self.adapters
