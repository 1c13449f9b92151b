"""What every task handler shares: its own process, the observers, the hub's inputs.

A handler object is created in the daemon (for ``checkHost`` and ``weight``) and runs in
the forked task process. The observer hooks fire from here, and only from here: task
started, then finished (after the task's results, once) or failed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import koji
import koji.tasks

from adjutant.plugin.manager import Plugins
from adjutant.rpm.header import RpmHeaderError, RpmInfo, read_rpm
from adjutant.settings import WorkerSettings
from adjutant.worker.cleanup import DeferredCleanup
from adjutant.worker.session import serialize_calls
from adjutant.worker.workdir import remove_workdir

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the daemon dies, so no task process outlives it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable")


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(f"task process got signal {signum}")


class HubTaskHandler(koji.tasks.BaseTaskHandler):
    """Base of adjutant's handlers: subclasses implement ``handler(...)`` with the task's
    parameters. Needs no container; :class:`ContainerTaskHandler` adds them."""

    #: The worker's settings (koji calls them the handler's options).
    options: WorkerSettings

    def __init__(self, id: int, method: str, params: Any, session: Any, options: Any,
                 workdir: str | None = None) -> None:
        super().__init__(id, method, params, session, options, workdir)
        self.plugins: Plugins = options.plugins
        #: Host paths of everything the task produced (results and logs), reported once
        #: to the ``adjutant_results_collected`` observers before the task reports.
        self.collected: list[str] = []
        #: The task's arch once known (observers see it).
        self.arch: str | None = None
        #: Engine cleanup the task's steps leave to run meanwhile; done before it reports.
        self.cleanup = DeferredCleanup()

    def run(self) -> Any:
        """Run the task in its own process, the observers around it."""
        if os.getpid() != getattr(self.options, "daemon_pid", None):
            _die_with_parent()
            # Replace the daemon's handlers: SIGINT (koji's first signal on cancel) and
            # SIGTERM end the task process, running every cleanup on the way out.
            signal.signal(signal.SIGTERM, _terminate)
            signal.signal(signal.SIGINT, _terminate)
        serialize_calls(self.session)
        self.plugins.task_started(self.task_summary())
        try:
            result = super().run()
            self.cleanup.finish()
            if self.collected:
                self.plugins.results_collected(self.task_summary(),
                                               list(dict.fromkeys(self.collected)))
        except BaseException as exc:
            self.plugins.task_failed(self.task_summary(), exc)
            raise
        finally:
            try:
                self.cleanup.finish(raise_errors=False)
            finally:
                self.close()
        self.plugins.task_finished(self.task_summary(), result)
        return result

    def close(self) -> None:
        """Release what the task process opened (subclasses add theirs)."""

    def removeWorkdir(self) -> None:
        """koji's removal of the task's work dir, done in this process
        (:func:`~adjutant.worker.workdir.remove_workdir`)."""
        if self.workdir is not None:
            remove_workdir(self.workdir)

    def task_summary(self) -> dict[str, Any]:
        """The ``task`` mapping observer hooks receive."""
        return {"id": self.id, "method": self.method, "params": self.params,
                "arch": self.arch}

    # -- what the hub says -----------------------------------------------------------

    def tag_shares_an_arch_with(self, tag: Any, hostdata: Mapping[str, Any]) -> bool:
        """kojid's host check for build tasks: the tag and this host share an arch."""
        tag_arches = {koji.canonArch(a) for a in
                      (self.session.getBuildConfig(tag)["arches"] or "").split()}
        host_arches = {koji.canonArch(a) for a in (hostdata.get("arches") or "").split()}
        return bool(tag_arches & host_arches)

    def repo_id_of(self, opts: Mapping[str, Any]) -> Any:
        """``opts['repo_id']``, which kojid's build tasks require."""
        repo_id = opts.get("repo_id")
        if not repo_id:
            raise koji.BuildError(f"{self.method} needs a repo_id in its options")
        return repo_id

    def read_start(self, repo_id: Any, package: str | None = None,
                   taskinfo: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        """What a build task reads from the hub as it starts, in one round trip (a
        multiCall) where kojid makes one call each → ``(repo, host)``.

        ``repo_id`` comes from :meth:`repo_id_of`. With ``package``, the task is weighed
        by that package's average build time, as kojid's ``updateWeight`` does. With
        ``taskinfo``, the task's own info is read too (``self.taskinfo``). A fault answers
        as the single call's would: the unknown repo first.
        """
        with self.session.multicall() as hub:
            repo = hub.repoInfo(repo_id, strict=True)
            host = hub.host.getHost()
            average = hub.getAverageBuildDuration(package, age=6) if package else None
            info = hub.getTaskInfo(self.id, request=True, strict=True) if taskinfo else None
        found = (dict(repo.result), dict(host.result))
        if info is not None:
            self.taskinfo = info.result
        if package and average is not None:
            self._weigh(package, average)
        return found

    def _weigh(self, package: str, average_call: Any) -> None:
        """kojid's weight for a build: its base weight, plus 0.75 for each hour its
        package took on average over the last 6 months (at most 18 more)."""
        try:
            average = average_call.result
        except koji.ParameterError:  # a hub older than 1.23 takes no age
            average = self.session.getAverageBuildDuration(package)
        if not average:
            return
        if average < 0:
            log.warning("negative average build duration for %s: %s", package, average)
            return
        self.session.host.setTaskWeight(self.id, self.weight() + min(18.0, average / 4800.0))

    def fetch_srpm(self, relpath: str) -> tuple[Path, RpmInfo]:
        """Download a work-relative SRPM through topurl and read its header."""
        local = Path(self.localPath(f"work/{relpath}"))
        try:
            header = read_rpm(local)
        except RpmHeaderError as exc:
            raise koji.BuildError(f"{relpath} is not a valid SRPM: {exc}") from exc
        if not header.is_source:
            raise koji.BuildError(f"{relpath} is a binary package, not an SRPM")
        return local, header
