"""``adjutant run``: the worker's main loop, kojid's loop over koji's TaskManager.

Signals as kojid's: SIGTERM (and SIGINT) stop the worker, freeing its tasks and removing
their containers; SIGUSR1 asks for a graceful restart: no new task is taken (the hub sees
the host not ready), running ones finish, then the worker logs out and re-executes itself
(an upgrade takes effect without a lost build). koji's ``restart``, ``restartVerify`` and
``restartHosts`` tasks drive the same restart from the hub (``koji restart-hosts``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
import time
from typing import Any

import koji
import koji.tasks

from adjutant.config import WorkerConfig, engine_timeouts
from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime
from adjutant.engine import open_runtime
from adjutant.plugin.manager import Plugins
from adjutant.sbom.facts import worker_tools
from adjutant.settings import WorkerSettings
from adjutant.worker.emulation_check import require_emulated_arches
from adjutant.worker.handlers import HANDLERS
from adjutant.worker.loop import LoopEnd, serve
from adjutant.worker.manager import ContainerTaskManager
from adjutant.worker.pacing import TaskEndWakeup
from adjutant.worker.session import connect

log = logging.getLogger(__name__)

#: koji's own handlers for the daemon's life: ``koji restart-hosts`` and its steps, and
#: the shutdown task. They only talk to the hub and the TaskManager, as in kojid.
KOJI_HANDLERS = (koji.tasks.RestartTask, koji.tasks.RestartVerifyTask,
                 koji.tasks.RestartHostsTask, koji.tasks.ShutdownTask)


class _Stop(BaseException):
    """Raised by the signal handler to leave the main loop cleanly.

    A BaseException: koji's ClientSession retries a call that raised any Exception, which
    would swallow the signal.
    """


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(f"signal {signum}")


#: How often a worker whose engine does not answer tries it again, in seconds.
ENGINE_RETRY_SECONDS = 5.0


def wait_for_engine(settings: WorkerSettings) -> ContainerRuntime:
    """The configured runtime, once its engine answers. A worker started before its
    engine (a host booting, an engine restarting) waits for it, saying so every
    ``engine_wait_log_interval`` seconds, instead of exiting. It never starts an engine
    service itself: the host's service manager owns the engine. Only an unusable
    configuration (an unknown runtime) ends it."""
    name = settings.runtime
    interval = settings.engine_wait_log_interval
    timeouts = engine_timeouts(settings.container_timeouts)
    waited_since: float | None = None
    said = 0.0
    while True:
        try:
            runtime = open_runtime(settings.plugins, name, settings.plugin_options,
                                   may_start_services=False, timeouts=timeouts)
        except ContainerError as exc:
            now = time.monotonic()
            if waited_since is None:
                waited_since = now
            if now - said >= interval:
                log.warning("the %s engine does not answer (%s); waiting for it (tried "
                            "every %gs for %.0fs so far)", name, exc, ENGINE_RETRY_SECONDS,
                            now - waited_since)
                said = now
            time.sleep(ENGINE_RETRY_SECONDS)
            continue
        if waited_since is not None:
            log.warning("the %s engine answers now, after %.0fs", name,
                        time.monotonic() - waited_since)
        return runtime


def reexec() -> None:
    """Replace this process with a fresh start of the same command line."""
    argv = list(sys.orig_argv) or [sys.executable, *sys.argv]
    log.warning("restarting: %s", " ".join(argv))
    for handler in logging.getLogger("adjutant").handlers:
        handler.flush()
    os.execv(sys.executable, argv)


def all_handlers(plugins: Plugins) -> tuple[type[Any], ...]:
    """The built-in handlers, koji's own, then those plugins offer
    (``adjutant_task_handlers``); a plugin method clashing with another's or the core's
    is a PluginError naming both."""
    builtin = (*HANDLERS, *KOJI_HANDLERS)
    offered = plugins.task_handlers(builtin=(m for h in builtin for m in h.Methods))
    return (*builtin, *dict.fromkeys(offered.values()))


def _versions(plugins: Plugins) -> str:
    """``koji-adjutant 1.2 (plugins: podman 1.2, ...)``, for the ready line. Read here,
    before any task is forked, the versions are kept for every task's SBOM too."""
    (_, own), *others = worker_tools(plugins)
    listed = ", ".join(f"{name} {version}" for name, version in others) or "none"
    return f"koji-adjutant {own} (plugins: {listed})"


def run_worker(config: WorkerConfig, plugins: Plugins, force_lock: bool = False,
               once: bool = False, skip_main: bool = False, debug_xmlrpc: bool = False,
               detach: bool = False) -> int:
    """Serve the hub until a signal (or, with ``once``, one pass of the loop).

    ``skip_main``: log in and set up, then log out without serving (kojid's
    --skip-main). ``detach``: become a daemon once logged in, so that start-up errors
    still reach the terminal. Returns the exit status: 0 after a clean shutdown, 1 when
    the session was lost; a restart re-executes and does not return.
    """
    handlers = all_handlers(plugins)
    settings = config.settings(plugins, daemon_pid=os.getpid())
    koji.pathinfo.topdir = settings.topdir
    runtime = wait_for_engine(settings)
    try:
        require_emulated_arches(settings, runtime)
    except BaseException:
        runtime.close()
        raise
    os.makedirs(settings.workdir, exist_ok=True)
    session = connect(settings, force_lock=force_lock,
                      overrides={"debug_xmlrpc": True} if debug_xmlrpc else None)
    try:
        host = session.host.getHost()
        options = dataclasses.replace(settings, host_name=host["name"])
        manager = ContainerTaskManager(options, session, runtime)
        for handler in handlers:
            manager.registerHandler(handler)
        removed = manager.remove_leftover_containers()
        manager.remove_leftover_task_images()
        if skip_main:
            log.warning("--skip-main: logged in and ready; not serving")
            raise _Stop("--skip-main")
    except _Stop:
        session.logout()
        runtime.close()
        return 0
    except BaseException:
        # Give the exclusive lock back, or the next start would find it held.
        session.logout()
        runtime.close()
        raise
    if detach:
        koji.daemonize()
    log.info("worker for host %s (id %s) ready on %s %s; %s; methods %s; removed %d "
             "leftover container(s)", host["name"], manager.host_id, runtime.name,
             runtime.version(), _versions(plugins), sorted(manager.handlers), removed)

    def restart(_signum: int, _frame: object) -> None:
        log.warning("graceful restart requested (SIGUSR1): taking no new task; restarting "
                    "once the %d running finish", len(manager.tasks))
        manager.restart_pending = True

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGUSR1, restart)
    wake = TaskEndWakeup()
    status = 0
    restarting = False
    try:
        end = serve(manager, options.sleeptime, wake.sleep, once=once)
        status = 1 if end is LoopEnd.SESSION_LOST else 0
        restarting = end is LoopEnd.RESTART
    except (_Stop, koji.tasks.ServerExit) as stop:
        log.info("stopping: %s", stop or "shutdown task")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        wake.close()
        try:
            manager.shutdown()
        except Exception:
            log.exception("shutdown could not free every task")
        try:
            session.logout()
        except Exception:
            log.debug("logout failed", exc_info=True)
        runtime.close()
    if restarting:
        reexec()
    return status
