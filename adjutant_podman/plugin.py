"""Entry point module: registers the ``podman`` runtime. Imports no SDK at load time."""

from __future__ import annotations

from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin import ConfigOption, ContainerRuntimeProvider, RuntimeSettings, hookimpl

DEFAULT_URL = "unix:///run/podman/podman.sock"


def _factory(settings: RuntimeSettings) -> ContainerRuntime:
    from adjutant_podman.runtime import PodmanRuntime

    return PodmanRuntime(
        url=settings.get("podman_url") or DEFAULT_URL,
        start_service=settings.may_start_services
        and (settings.get("podman_start_service") or "true").lower() == "true",
        timeouts=settings.timeouts,
    )


@hookimpl
def adjutant_container_runtimes() -> list[ContainerRuntimeProvider]:
    return [ContainerRuntimeProvider(
        name="podman", factory=_factory,
        description="podman via its API service (podman-py)",
    )]


@hookimpl
def adjutant_config_options() -> list[ConfigOption]:
    return [
        ConfigOption("podman_url", DEFAULT_URL, "podman API service socket"),
        ConfigOption("podman_start_service", "true",
                     "start 'podman system service' on that socket when nothing answers"),
    ]
