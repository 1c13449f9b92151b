"""What to run: an engine-neutral description of one container."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: Label every container adjutant creates carries; cleanup finds leftovers by it.
MANAGED_LABEL = "io.koji-adjutant.managed"
#: Environment variable with ``k=v[,k=v...]`` labels added to every container (a
#: deployment's marker; the test suite tags each run's containers with it).
LABELS_ENV = "ADJUTANT_CONTAINER_LABELS"


def environment_labels() -> dict[str, str]:
    """The labels ``$ADJUTANT_CONTAINER_LABELS`` asks for (malformed items are ignored)."""
    labels = {}
    for item in os.environ.get(LABELS_ENV, "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep and key:
            labels[key] = value
    return labels


class Stream(enum.IntEnum):
    """Output stream numbers as the engines' multiplexed log format numbers them."""

    STDOUT = 1
    STDERR = 2


@dataclass(frozen=True)
class Mount:
    """A host path bind-mounted into the container.

    Mounts are read-only unless ``writable`` is set: a build may write only where it is
    explicitly allowed to.
    """

    source: Path
    target: str
    writable: bool = False

    def __post_init__(self) -> None:
        if not self.target.startswith("/"):
            raise ValueError(f"mount target must be absolute, got {self.target!r}")


@dataclass(frozen=True)
class Limits:
    """Resource limits; ``None`` leaves the engine's default. ``ulimits`` are
    ``(name, soft, hard)`` with rlimit names in lower case without ``RLIMIT_``
    (``nofile``, ``nproc``, ``core``...): kojid's ``RLIMIT_*`` options."""

    cpus: float | None = None
    memory_bytes: int | None = None
    pids: int | None = None
    ulimits: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class ContainerSpec:
    """One container to run.

    ``command`` is an argument list, never a shell string. ``network`` False means the
    container has no network at all (``--network none``); with ``network`` True,
    ``network_mode`` picks the engine's network (default ``bridge``; ``host`` shares the
    host's, for a hub only reachable there). ``capabilities`` lists the
    capabilities kept; every other one is dropped (the empty default drops all), and
    ``no-new-privileges`` is always set. ``timeout`` (seconds) bounds the run; the runner
    kills the container when it passes. ``platform`` (``linux/arm64``) is set when the
    image is of another arch than the host's, to be run under emulation; the engine is
    told so where its API takes it.
    """

    image: str
    command: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    user: str | None = None
    workdir: str | None = None
    network: bool = False
    network_mode: str = "bridge"
    labels: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    timeout: float | None = None
    capabilities: tuple[str, ...] = ()
    name: str | None = None
    platform: str | None = None

    def all_labels(self) -> dict[str, str]:
        """The spec's labels, those of ``$ADJUTANT_CONTAINER_LABELS`` and the managed-by
        marker every adjutant container carries."""
        return {**environment_labels(), **self.labels, MANAGED_LABEL: "true"}
