"""Running one container of a task: its labels, the site's mounts, the limits."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from adjutant.container.errors import ContainerError
from adjutant.container.run import OutputSink, RunResult, run_container
from adjutant.container.spec import ContainerSpec, Limits, Mount
from adjutant.worker.context import TaskContext
from adjutant.worker.errors import build_error
from adjutant.worker.labels import task_labels

log = logging.getLogger(__name__)


def container_spec(ctx: TaskContext, image: str, command: Sequence[str], *,
                   mounts: Sequence[Mount] = (), network: bool = False,
                   network_mode: str = "bridge", user: str | None = None,
                   workdir: str | None = None, environment: Mapping[str, str] | None = None,
                   timeout: float | None = None, capabilities: Sequence[str] = ()) \
        -> ContainerSpec:
    """A spec carrying the task's labels, the site's extra mounts (``container_mounts``),
    the limits (``container_*``, kojid's ``RLIMIT_*``); the network only where a phase
    asks for it and ``network_enabled`` allows it. An emulated task's containers get its
    platform and a timeout stretched by its factor."""
    s = ctx.settings
    emulation = ctx.emulation
    site_mounts = tuple(Mount(Path(src), dst, rw) for src, dst, rw in s.container_mounts)
    return ContainerSpec(
        image=image, command=tuple(command), environment=dict(environment or {}),
        mounts=(*mounts, *site_mounts), user=user, workdir=workdir,
        network=network and bool(s.network_enabled), network_mode=network_mode,
        labels=task_labels(s.host_name, ctx.task_id, s.container_labels),
        limits=Limits(cpus=s.container_cpus, memory_bytes=s.container_memory,
                      pids=s.container_pids,
                      ulimits=tuple((name.lower(), soft, hard)
                                    for name, (soft, hard) in sorted(s.rlimits.items()))),
        timeout=emulation.scaled(timeout) if emulation else timeout,
        capabilities=tuple(capabilities),
        platform=emulation.platform.platform if emulation else None)


def run_in_container(ctx: TaskContext, spec: ContainerSpec, sink: OutputSink) -> RunResult:
    """Run ``spec`` to the end; an engine failure becomes a BuildError saying so.

    After a run that ended (whatever its exit code), the container's removal is left to
    the task's deferred cleanup (``ctx.cleanup``). When the run raises (the task stopped
    by a signal, a sink that failed, the engine), the container is removed at once, as it
    may still be running and writing into the task's directories.
    """
    created: list[str] = []
    try:
        result = run_container(ctx.runtime, spec, sink, on_created=created.append, keep=True)
    except BaseException as exc:
        for container_id in created:
            _remove_now(ctx, container_id)
        if isinstance(exc, ContainerError):
            raise build_error(f"container failure: {exc}") from exc
        raise
    for container_id in created:
        ctx.cleanup.defer(f"remove container {container_id[:12]}",
                          functools.partial(ctx.runtime.remove, container_id))
    return result


def _remove_now(ctx: TaskContext, container_id: str) -> None:
    """Remove a container while an error is in flight: that error says more, so a failure
    here is only logged."""
    try:
        ctx.runtime.remove(container_id)
    except ContainerError as exc:
        log.error("could not remove container %s: %s", container_id[:12], exc)
