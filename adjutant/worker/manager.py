"""koji's TaskManager, changed only where a container builder differs from mock.

- buildroot upkeep: no mock configs to scan; buildroots this host left open on the hub
  for tasks it no longer runs are expired, and containers of such tasks are removed.
- free space: checked where task work happens (``workdir``), not in ``mockdir``.
- cleanup of a task (cancelled, reassigned, finished): its containers are removed at once,
  then koji's own process-tree kill runs; for a task process already reaped there is no
  tree left to look for.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import koji
import koji.daemon

from adjutant.container.runtime import ContainerRuntime
from adjutant.worker import diskspace, failed, logsetup
from adjutant.worker.buildroot import TASK_IMAGE_REPO, task_image_ref
from adjutant.worker.labels import TASK_LABEL, host_selector, task_selector

log = logging.getLogger(__name__)

_OPEN_BUILDROOT_STATES = ("INIT", "WAITING", "BUILDING")


class ContainerTaskManager(koji.daemon.TaskManager):
    """TaskManager whose tasks run in containers of ``runtime``."""

    def __init__(self, options: Any, session: Any, runtime: ContainerRuntime) -> None:
        super().__init__(options, session)
        self.runtime = runtime
        self.host_name: str = options.host_name
        self.shutting_down = False
        self._storage: list[str] | None = None
        self._reaped: int | None = None

    def remove_leftover_containers(self) -> int:
        """Remove every container of this host whose task is not running here.

        At start-up nothing runs yet, so this removes everything an earlier life of the
        worker left behind. Returns how many containers were removed.
        """
        removed = 0
        for info in self.runtime.list_containers(host_selector(self.host_name)):
            try:
                task_id = int(info.labels.get(TASK_LABEL, "0"))
            except ValueError:
                task_id = 0
            if task_id in self.pids:
                continue
            log.info("removing leftover container %s %s (task %s; running here: %s)",
                     info.id[:12], info.name, task_id, sorted(self.pids))
            self.runtime.remove(info.id)
            removed += 1
        return removed

    def remove_leftover_task_images(self) -> int:
        """Remove the task-image names of this host's tasks that do not run here (a killed
        task process never released its own). Returns how many were removed."""
        prefix = task_image_ref(self.host_name, 0)[:-1]
        removed = 0
        for name in self.runtime.image_names(TASK_IMAGE_REPO):
            task = name[len(prefix):]
            if not name.startswith(prefix) or not task.isdigit() or int(task) in self.pids:
                continue
            log.info("removing leftover task image %s", name)
            self.runtime.remove_image(name, force=False)
            removed += 1
        return removed

    def updateBuildroots(self, nolocal: bool = False) -> None:
        states = tuple(koji.BR_STATES[s] for s in _OPEN_BUILDROOT_STATES)
        for broot in self.session.listBuildroots(hostID=self.host_id, state=states):
            if broot.get("task_id") in self.pids:
                continue
            log.info("expiring stale buildroot %s (task %s)", broot["id"], broot.get("task_id"))
            self.session.host.setBuildRootState(broot["id"], "EXPIRED")
        if not nolocal:
            try:
                self.remove_leftover_containers()
                self.remove_leftover_task_images()
                failed.expire(self.runtime, self.options.workdir)
            except Exception:
                # Best effort: engine trouble must never keep the loop from its heartbeat.
                log.warning("could not remove leftover containers", exc_info=True)

    def checkSpace(self) -> bool:
        """kojid's free-space check, where a container builder fills disks: ``workdir``
        (build dirs) and the engine's storage (buildroot images, the cache). Below
        ``minspace`` MB in either, the host reports itself not ready."""
        os.makedirs(self.options.workdir, exist_ok=True)
        for path in (self.options.workdir, *self._engine_storage()):
            available_mb = diskspace.free_mb(path)
            if available_mb is None:
                continue  # a remote engine's storage is not on this host
            if available_mb < self.options.minspace:
                self.status = (f"Insufficient disk space at {path}: {available_mb} MB, "
                               f"{self.options.minspace} MB required")
                log.warning(self.status)
                return False
        return True

    def _engine_storage(self) -> list[str]:
        """The engine's storage dir, asked once (it does not move while the engine runs)."""
        if self._storage is None:
            try:
                self._storage = [str(self.runtime.storage_path())]
            except NotImplementedError:
                self._storage = []
            except Exception:
                log.debug("cannot find the engine's storage; will ask again", exc_info=True)
                return []
        return self._storage

    def runTask(self, handler: Any) -> None:
        """koji's runTask, with the task's id on every log line while it runs."""
        logsetup.set_task(handler.id)
        try:
            super().runTask(handler)
        finally:
            logsetup.set_task(None)

    def shutdown(self) -> None:
        """Stop every task process, then give the tasks back (koji's shutdown)."""
        self.shutting_down = True
        super().shutdown()

    def cleanupTask(self, task_id: int, wait: bool = True) -> bool:
        # A cancelled or reassigned task: containers first, so that the build stops at
        # once (the hub refuses the task's reports by now anyway). At shutdown the task
        # process must go first: a build stopped under it would be reported as failed,
        # where the task is to be freed for another host. Containers again afterwards, in
        # case the task created one in between. koji passes wait=False only for a task
        # whose process has already exited: nothing is left to stop, one sweep will do.
        if wait and not self.shutting_down:
            self.remove_task_containers(task_id)
        self._reaped = None if wait else self.pids.get(task_id)
        try:
            done = bool(super().cleanupTask(task_id, wait=wait))
        finally:
            self._reaped = None
        self.remove_task_containers(task_id)
        return done

    def _childPIDs(self, pid: int) -> list[tuple[int, str]]:
        # koji scans every process in /proc for the task's tree, also when the task
        # process has been reaped (cleanupTask(wait=False), after each task's end). Its
        # children were re-parented when it exited, so the scan can only find nothing, or
        # the children of another process that has since been given the same pid. It
        # takes 10-25 ms on a busy host, between a task's end and the next task's start.
        if pid == self._reaped:
            return []
        return list(super()._childPIDs(pid))

    def remove_task_containers(self, task_id: int) -> None:
        """Best effort: engine trouble is logged, never allowed to stop the main loop."""
        try:
            for info in self.runtime.list_containers(task_selector(self.host_name, task_id)):
                log.info("removing container %s of task %s", info.name, task_id)
                self.runtime.remove(info.id)
        except Exception:
            log.warning("could not remove the containers of task %s", task_id, exc_info=True)
