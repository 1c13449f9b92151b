"""kojid's main loop over koji's TaskManager: update the tasks, take one, sweep, sleep.

Kept apart from the daemon's set-up and signals (:mod:`adjutant.worker.daemon`) so that
its rounds, and when it sleeps, can be checked without a hub.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Any

import koji
import koji.tasks

from adjutant.worker.pacing import Pace, PollCadence

log = logging.getLogger(__name__)


class LoopEnd(enum.Enum):
    """Why :func:`serve` returned (a stop signal or koji's shutdown task raise instead)."""

    ONCE = "one round done"
    SESSION_LOST = "session lost"
    RESTART = "restart asked"


def serve(manager: Any, sleeptime: float, sleep: Callable[[float], None], *,
          once: bool = False, clock: Callable[[], float] = time.monotonic) -> LoopEnd:
    """Run rounds until one ends the loop; return why.

    A round updates the tasks, takes at most one, and sweeps buildroots when it took
    nothing (at most once a ``sleeptime``). A round that took a task is followed at once
    by another; any other round is followed by ``sleep`` until the next regular poll
    (:class:`~adjutant.worker.pacing.PollCadence`), which a task's end may cut short.
    A round that fails is logged and counts as one that took nothing, as in kojid: the
    loop then sleeps instead of retrying at once. A lost session (koji's ``AuthError``,
    ``RetryError`` among them) ends the loop; koji's shutdown and whatever ``sleep``
    raises (a stop signal) propagate.
    """
    sweep = Pace(sleeptime, clock=clock)
    cadence = PollCadence(sleeptime, clock=clock)
    while True:
        taken = False
        try:
            # kojid sweeps buildroots first; here the sweep (hub and engine calls)
            # follows the take, so that a slot freed by a task's end is filled first,
            # and it keeps kojid's pace: at most once a sleeptime. A task's end wakes
            # the loop early; a sweep on each of those would keep the daemon busy,
            # and the engine loaded, just when the next task's end is to be noticed.
            manager.updateTasks()
            taken = bool(manager.getNextTask())
            if once or (not taken and sweep.due()):
                manager.updateBuildroots()
        except koji.tasks.ServerExit:
            raise
        except koji.AuthError as exc:
            # AuthExpired, and RetryError (the hub could not rerun a retried call): either
            # way this session is spent. kojid raises RetryError out of its loop; here
            # it ends the worker as any lost session does, freeing its tasks.
            log.error("session lost: %s; exiting (restart with --force-lock)", exc)
            return LoopEnd.SESSION_LOST
        except koji.tasks.ServerRestart:
            return LoopEnd.RESTART
        except Exception:
            log.exception("error in the main loop; continuing")
        if once:
            return LoopEnd.ONCE
        if not taken:
            sleep(cadence.wait())
