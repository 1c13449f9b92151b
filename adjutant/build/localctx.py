"""A :class:`~adjutant.worker.context.TaskContext` for ``adjutant build``: the worker's
buildroot machinery, run for a packager with no hub task behind it.

The settings are the worker's option namespace: kojid.conf's when ``-c`` is given, else
every option at its default, so the buildroot is installed and the macros are defined
exactly as a worker with that config would. Logs are plain files in the output
directory (and the configured sinks); nothing is uploaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adjutant.build.local import LOCAL_LABEL
from adjutant.config import ADJUTANT_OPTIONS, KOJID_OPTIONS, WorkerConfig, adjutant_defaults
from adjutant.container.runtime import ContainerRuntime
from adjutant.logs.fanout import TaskLog
from adjutant.plugin.manager import Plugins
from adjutant.settings import WorkerSettings
from adjutant.worker.context import TaskContext, TaskLogs
from adjutant.worker.emulation import Emulation

#: The host name local builds' containers and task images carry (``task_labels``): no
#: worker's, so a worker's start-up sweep never takes them for its own leftovers.
LOCAL_HOST = "local-build"


def default_cache_dir() -> Path:
    """Where a local build keeps its buildroot cache without ``-c``/``--cache-dir``: the
    worker's default as root (so ``adjutant cache list`` finds it), else the user's."""
    if os.geteuid() == 0:
        return Path(str(ADJUTANT_OPTIONS["cache_dir"].default))
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "koji-adjutant"


def local_settings(plugins: Plugins, config: WorkerConfig | None = None,
                   overrides: Mapping[str, Any] | None = None) -> WorkerSettings:
    """The option namespace of a local build: ``config``'s (kojid.conf and
    ``[adjutant]``) or the defaults, with ``overrides`` (``cache_dir``,
    ``container_memory``...) from the command line."""
    if config is None:
        kojid = {k: o.default for k, o in KOJID_OPTIONS.items()}
        kojid["rlimits"] = {}
        kojid["topurls"] = []
        adjutant = adjutant_defaults()
        adjutant["cache_dir"] = str(default_cache_dir())
        plugin_options = {o.name: o.default for o in plugins.config_options()}
        config = WorkerConfig(Path("-"), kojid, adjutant, plugin_options)
    adjutant = {**config.adjutant, **{k: v for k, v in (overrides or {}).items()
                                      if k in ADJUTANT_OPTIONS and v is not None}}
    adjutant["container_labels"] = {**adjutant["container_labels"], LOCAL_LABEL: "true"}
    kojid = {**config.kojid, **{k: v for k, v in (overrides or {}).items()
                                if k in KOJID_OPTIONS and v is not None}}
    if kojid.get("topurl"):  # several space-separated topurls: kojid uses the first
        kojid["topurls"] = kojid["topurl"].split()
        kojid["topurl"] = kojid["topurls"][0]
    merged = WorkerConfig(config.path, kojid, adjutant, config.plugin_options)
    return merged.settings(plugins, LOCAL_HOST)


@dataclass
class LocalLogs(TaskLogs):
    """The logs of a local build: files in the output directory and the configured
    sinks; never uploaded (there is no hub task)."""

    def open(self, name: str) -> TaskLog:
        self.directory.mkdir(parents=True, exist_ok=True)
        sinks = list(dict.fromkeys(["file", *self.sinks]))
        return TaskLog.open(self.plugins, name, sinks,
                            {"workdir": self.directory, "task_id": "local"})

    @property
    def started(self) -> bool:
        return False

    def finish(self) -> list[Path]:
        return sorted(p for p in self.directory.glob("*.log") if p.is_file())


def local_context(runtime: ContainerRuntime, plugins: Plugins, settings: WorkerSettings,
                  workdir: Path, logdir: Path, arch: str, tag: str | None = None,
                  build_config: Mapping[str, Any] | None = None, session: Any = None,
                  emulation: Emulation | None = None) -> TaskContext:
    """The context the buildroot steps take, for one local build. ``session`` is an
    anonymous hub session when the build reproduces a hub tag, else None. The task id is
    this process's: it names the build's containers and its task image uniquely."""
    logs = LocalLogs(plugins, None, logdir, "", os.getpid(),
                     tuple(settings.log_sinks))
    return TaskContext(task_id=os.getpid(), method="buildArch", arch=arch, tag=tag,
                       build_config=build_config, settings=settings, workdir=workdir,
                       runtime=runtime, session=session, plugins=plugins, logs=logs,
                       uploadpath="", emulation=emulation)
