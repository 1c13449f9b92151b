"""Running one container of a task: its labels, the site's mounts, the limits."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

from adjutant.container.errors import ContainerError
from adjutant.container.run import OutputSink, RunResult, run_container
from adjutant.container.spec import ContainerSpec, Limits, Mount
from adjutant.worker.context import TaskContext
from adjutant.worker.errors import build_error
from adjutant.worker.labels import task_labels


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
    """Run ``spec`` to the end; an engine failure becomes a BuildError saying so. The
    container of a run that ended is removed by the task's deferred cleanup
    (``ctx.cleanup``); one whose run raised, at once."""

    def remove_later(container_id: str) -> None:
        ctx.cleanup.defer(f"remove container {container_id[:12]}",
                          functools.partial(ctx.runtime.remove, container_id))

    try:
        return run_container(ctx.runtime, spec, sink, remove_later=remove_later)
    except ContainerError as exc:
        raise build_error(f"container failure: {exc}") from exc
