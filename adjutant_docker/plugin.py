"""Entry point module: registers the ``docker`` runtime. Imports no SDK at load time."""

from __future__ import annotations

import os

from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin import ConfigOption, ContainerRuntimeProvider, RuntimeSettings, hookimpl

DEFAULT_URL = "unix:///var/run/docker.sock"


def _factory(settings: RuntimeSettings) -> ContainerRuntime:
    from adjutant_docker.runtime import DockerRuntime

    return DockerRuntime(url=settings.get("docker_url") or os.environ.get("DOCKER_HOST")
                         or DEFAULT_URL, timeouts=settings.timeouts)


@hookimpl
def adjutant_container_runtimes() -> list[ContainerRuntimeProvider]:
    return [ContainerRuntimeProvider(
        name="docker", factory=_factory, description="dockerd via its API (docker-py)",
    )]


@hookimpl
def adjutant_config_options() -> list[ConfigOption]:
    return [ConfigOption("docker_url", "",
                         f"dockerd API socket (default: $DOCKER_HOST, else {DEFAULT_URL})")]
