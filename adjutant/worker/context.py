"""One task's context: everything its steps need, built once and passed explicitly.

A handler gathers what only the hub can tell (the build tag, the repo, the arch), then
makes a :class:`TaskContext` (``ContainerTaskHandler.context``); every step of the task's
pipeline (:mod:`adjutant.worker.steps`) takes it as its first argument. There is no other
channel between steps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adjutant.container.runtime import ContainerRuntime
from adjutant.container.untrusted import UntrustedDir
from adjutant.logs.fanout import TaskLog
from adjutant.plugin.manager import Plugins
from adjutant.settings import WorkerSettings
from adjutant.worker.cleanup import DeferredCleanup
from adjutant.worker.emulation import Emulation

if TYPE_CHECKING:  # hublog imports koji, which a local build (no hub) need not load
    from adjutant.worker.hublog import HubLogUploader

#: The unprivileged user builds run as, in every image.
BUILD_UID = 1000


@dataclass
class TaskLogs:
    """The task's logs: files in ``directory``, written to every configured sink and
    streamed to the hub's ``uploadpath`` while they grow."""

    plugins: Plugins
    session: Any
    directory: Path
    uploadpath: str
    task_id: int
    sinks: tuple[str, ...] = ("file",)
    interval: float = 1.0
    timestamps: bool = False
    _uploader: HubLogUploader | None = field(default=None, init=False, repr=False)

    def _live(self) -> HubLogUploader:
        if self._uploader is None:
            from adjutant.worker.hublog import HubLogUploader

            self.directory.mkdir(parents=True, exist_ok=True)
            self._uploader = HubLogUploader(self.session, self.directory, self.uploadpath,
                                            self.interval).start()
        return self._uploader

    @property
    def started(self) -> bool:
        return self._uploader is not None

    def open(self, name: str) -> TaskLog:
        """A task log written to the sinks (``file`` always) and uploaded while it grows;
        with ``timestamps`` (kojid's ``log_timestamps``) also kojid's ``<name>-ts.log``."""
        live = self._live()
        live.add(name)
        stamps = self.directory / f"{name}-ts.log" if self.timestamps else None
        if stamps is not None:
            live.add(stamps.name)
        sinks = list(dict.fromkeys(["file", *self.sinks]))
        return TaskLog.open(self.plugins, name, sinks,
                            {"workdir": self.directory, "task_id": self.task_id}, stamps)

    def path(self, name: str) -> Path:
        return self.directory / name

    def finish(self) -> list[Path]:
        """Upload every log to its end and stop streaming; the logs' paths here."""
        uploader = self._live()
        names = UntrustedDir(self.directory).files()
        for name in names:
            uploader.add(name)
        uploader.stop()
        self._uploader = None
        return [self.directory / name for name in names]


@dataclass
class TaskContext:
    """What one task's steps share. ``arch`` is the buildroot arch (the repo's arch for
    createrepo); ``tag`` and ``build_config`` are the build tag's, when the task has one;
    ``settings`` is the worker's option namespace (kojid.conf and ``[adjutant]``)."""

    task_id: int
    method: str
    arch: str
    tag: str | None
    build_config: Mapping[str, Any] | None
    settings: WorkerSettings
    workdir: Path
    runtime: ContainerRuntime
    session: Any
    plugins: Plugins
    logs: TaskLogs
    #: Where the task's uploads go on the hub, relative to its ``work/``.
    uploadpath: str
    #: Host paths of what the task produced, reported once to the results observers.
    results: list[str] = field(default_factory=list)
    #: Set when the task's containers run as ``arch`` under qemu-user (a foreign arch
    #: in ``emulated_arches``); None when they run natively.
    emulation: Emulation | None = None
    #: Engine cleanup left to run while the task goes on; finished before it reports.
    cleanup: DeferredCleanup = field(default_factory=DeferredCleanup)

    def summary(self) -> dict[str, Any]:
        """The ``task`` mapping observer hooks receive."""
        return {"id": self.task_id, "method": self.method, "arch": self.arch, "tag": self.tag}

    def subdir(self, name: str, build_user: bool = False) -> Path:
        """A directory in the task's work dir (owned by the build user when asked)."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        if build_user and os.geteuid() == 0:
            os.chown(path, BUILD_UID, BUILD_UID)
        elif build_user:
            path.chmod(0o777)
        return path
