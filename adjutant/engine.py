"""Opening the configured container runtime through its plugin."""

from __future__ import annotations

from collections.abc import Mapping

from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin.manager import Plugins
from adjutant.plugin.types import EngineTimeouts, RuntimeSettings

DEFAULT_RUNTIME = "podman"


def open_runtime(plugins: Plugins, name: str, options: Mapping[str, str] | None = None,
                 may_start_services: bool = True,
                 timeouts: EngineTimeouts | None = None) -> ContainerRuntime:
    """Create the runtime called ``name`` (error lists the available ones) and ping it."""
    provider = plugins.runtime_provider(name)
    runtime = provider.factory(RuntimeSettings(dict(options or {}), may_start_services,
                                               timeouts or EngineTimeouts()))
    runtime.ping()
    return runtime
