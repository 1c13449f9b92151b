"""The base of handlers whose work runs in containers: the runtime, the task context.

Everything that talks to the container engine is created lazily in the task process,
never inherited across the fork. A handler gathers what the hub says (tag, repo, arch),
makes its :class:`~adjutant.worker.context.TaskContext` with :meth:`context`, and runs
its pipeline of steps (:mod:`adjutant.worker.steps`) over it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import koji

from adjutant.config import engine_timeouts
from adjutant.container.errors import ContainerError
from adjutant.container.platforms import host_arch
from adjutant.container.runtime import ContainerRuntime
from adjutant.engine import open_runtime
from adjutant.worker.context import TaskContext, TaskLogs
from adjutant.worker.emulation import NotBuiltHere, emulation_for
from adjutant.worker.handlers.hubtask import HubTaskHandler

log = logging.getLogger(__name__)


class ContainerTaskHandler(HubTaskHandler):
    """Base of the handlers that run containers."""

    def __init__(self, id: int, method: str, params: Any, session: Any, options: Any,
                 workdir: str | None = None) -> None:
        super().__init__(id, method, params, session, options, workdir)
        self._logs: TaskLogs | None = None

    @cached_property
    def runtime(self) -> ContainerRuntime:
        try:
            return open_runtime(self.plugins, self.options.runtime,
                                getattr(self.options, "plugin_options", {}),
                                may_start_services=False,
                                timeouts=engine_timeouts(self.options.container_timeouts))
        except ContainerError as exc:
            raise koji.GenericError(f"container runtime {self.options.runtime!r} is not "
                                    f"usable on this host: {exc}") from exc

    @property
    def logs(self) -> TaskLogs:
        """The task's logs (one set per task, streamed to the hub while they grow)."""
        if self._logs is None:
            self._logs = TaskLogs(
                self.plugins, self.session, Path(self.workdir) / "logs", self.getUploadDir(),
                self.id, tuple(self.options.log_sinks), float(self.options.hub_log_interval),
                bool(self.options.log_timestamps))
        return self._logs

    def context(self, arch: str, build_config: Mapping[str, Any] | None = None,
                tag: str | None = None, emulate: bool = False) -> TaskContext:
        """The task's context, once the hub has said its arch and build tag.

        ``emulate``: the task builds for ``arch`` (its containers must run as that
        platform), so a foreign arch runs under qemu-user when it is one of
        ``emulated_arches``, and fails the task saying so when it is not. Without it the
        containers run natively whatever ``arch`` is (a repo's arch is only data).
        """
        self.arch = arch
        emulation = None
        if emulate:
            try:
                emulation = emulation_for(self.options, arch)
            except NotBuiltHere as exc:
                raise koji.BuildError(str(exc)) from None
        return TaskContext(
            task_id=self.id, method=self.method, arch=arch,
            tag=tag or (build_config["name"] if build_config else None),
            build_config=build_config, settings=self.options, workdir=Path(self.workdir),
            runtime=self.runtime, session=self.session, plugins=self.plugins,
            logs=self.logs, uploadpath=self.getUploadDir(), results=self.collected,
            emulation=emulation, cleanup=self.cleanup)

    def find_arch(self, arch: str, host: Mapping[str, Any], tag: Mapping[str, Any],
                  preferred_arch: str | None = None) -> str:
        """koji's choice of a concrete arch for a noarch task. As kojid, the arch the
        task was scheduled by comes first (a parent pins a noarch task to an arch its
        package's ExclusiveArch allows, :func:`~adjutant.worker.arches.subtask_arch`);
        for a task scheduled as noarch, this host's own arch (an emulated one would only
        be slower) rather than koji's random pick. Reads ``self.taskinfo``: a hub call unless
        :meth:`read_start` read it."""
        if arch == "noarch" and preferred_arch is None:
            scheduled = self.taskinfo["arch"]
            preferred_arch = host_arch() if scheduled == "noarch" else scheduled
        return str(super().find_arch(arch, host, tag, preferred_arch))

    def close(self) -> None:
        if "runtime" in self.__dict__:
            self.runtime.close()

    def removeWorkdir(self) -> None:
        """Before the work dir goes (success or failure): the rest of the logs to the hub,
        so that a failed task's log ends with its error there too."""
        if self._logs is not None and self._logs.started:
            try:
                self._logs.finish()
            except Exception:
                log.warning("final upload of the logs of task %s failed", self.id,
                            exc_info=True)
        super().removeWorkdir()
