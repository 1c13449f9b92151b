"""``adjutant run``: the worker's main loop, kojid's loop over koji's TaskManager."""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

import koji
import koji.tasks

from adjutant.config import WorkerConfig, engine_timeouts
from adjutant.engine import open_runtime
from adjutant.plugin.manager import Plugins
from adjutant.worker.handlers import HANDLERS
from adjutant.worker.manager import ContainerTaskManager
from adjutant.worker.session import connect

log = logging.getLogger(__name__)


class _Stop(BaseException):
    """Raised by the signal handler to leave the main loop cleanly.

    A BaseException: koji's ClientSession retries a call that raised any Exception, which
    would swallow the signal.
    """


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(f"signal {signum}")


def worker_options(config: WorkerConfig, plugins: Plugins, host_name: str) -> Any:
    """The options object TaskManager and the handlers read."""
    koji.pathinfo.topdir = config.kojid["topdir"]
    return config.koji_options(plugins=plugins, host_name=host_name, daemon_pid=os.getpid(),
                               plugin_options=dict(config.plugin_options),
                               adjutant_settings={**config.adjutant,
                                                  **config.plugin_options})


def run_worker(config: WorkerConfig, plugins: Plugins, force_lock: bool = False,
               once: bool = False) -> int:
    """Serve the hub until a signal (or, with ``once``, one pass of the loop).

    Returns the exit status: 0 after a clean shutdown, 1 when the session was lost.
    """
    runtime = open_runtime(plugins, config.adjutant["runtime"], config.plugin_options,
                           timeouts=engine_timeouts(config.adjutant["container_timeouts"]))
    os.makedirs(config.kojid["workdir"], exist_ok=True)
    session = connect(config.kojid, force_lock=force_lock)
    try:
        host = session.host.getHost()
        options = worker_options(config, plugins, host["name"])
        manager = ContainerTaskManager(options, session, runtime)
        for handler in HANDLERS:
            manager.registerHandler(handler)
        removed = manager.remove_leftover_containers()
        manager.remove_leftover_task_images()
    except BaseException:
        # Give the exclusive lock back, or the next start would find it held.
        session.logout()
        runtime.close()
        raise
    log.info("worker for host %s (id %s) ready on %s %s; methods %s; removed %d leftover "
             "container(s)", host["name"], manager.host_id, runtime.name, runtime.version(),
             sorted(manager.handlers), removed)

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    status = 0
    taken = False
    try:
        while True:
            try:
                if not taken:
                    manager.updateBuildroots()
                manager.updateTasks()
                taken = manager.getNextTask()
            except (koji.AuthExpired, koji.AuthError) as exc:
                log.error("session lost: %s; exiting (restart with --force-lock)", exc)
                status = 1
                break
            except koji.RetryError:
                raise
            except (_Stop, SystemExit, KeyboardInterrupt, koji.tasks.ServerExit):
                raise
            except Exception:
                # As kojid: a failed round is logged and the loop goes on.
                log.exception("error in the main loop; continuing")
            if once:
                break
            if not taken:
                time.sleep(options.sleeptime)
    except _Stop as stop:
        log.info("stopping: %s", stop)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            manager.shutdown()
        except Exception:
            log.exception("shutdown could not free every task")
        try:
            session.logout()
        except Exception:
            log.debug("logout failed", exc_info=True)
        runtime.close()
    return status
