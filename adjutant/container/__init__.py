"""The container model: what a task asks a runtime to run, and the runtime interface.

The core owns this model; runtime plugins (``adjutant_podman``, ``adjutant_docker``) only
translate it to their engine's API. Nothing here imports an engine SDK.
"""

from adjutant.container.errors import (
    ContainerError,
    EngineTimeout,
    EngineUnavailable,
    ImageUnavailable,
)
from adjutant.container.runtime import (
    Bound,
    ContainerInfo,
    ContainerRuntime,
    EngineTimeouts,
    ImageInfo,
    OutputStream,
)
from adjutant.container.spec import ContainerSpec, Limits, Mount, Stream

__all__ = [
    "Bound",
    "ContainerError",
    "ContainerInfo",
    "ContainerRuntime",
    "ContainerSpec",
    "EngineTimeout",
    "EngineTimeouts",
    "EngineUnavailable",
    "ImageInfo",
    "ImageUnavailable",
    "Limits",
    "Mount",
    "OutputStream",
    "Stream",
]
