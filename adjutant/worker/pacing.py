"""When the worker's main loop polls the hub, sleeps, and sweeps buildroots.

kojid polls the hub every ``sleeptime`` seconds while it takes nothing. adjutant keeps
that cadence and adds one thing: a task's end wakes the loop at once, to fill the freed
slot (:class:`TaskEndWakeup`). That extra poll does not move the cadence
(:class:`PollCadence`): the regular poll still comes when it was due, not a whole
``sleeptime`` after the extra one. Work that a task's end sets off on the hub (a waiting
parent task making its next subtasks) then waits for the regular poll, as under kojid,
and not for a full ``sleeptime`` counted from the end.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable


class TaskEndWakeup:
    """The loop's sleep, cut short when a task process ends (SIGCHLD), so that a free
    slot is filled at once instead of after up to ``sleeptime`` seconds. The signal only
    writes to a pipe (``signal.set_wakeup_fd``); koji's loop still reaps the children."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._previous = signal.signal(signal.SIGCHLD, lambda _s, _f: None)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if a signal arrives meanwhile."""
        ready, _, _ = select.select([self._read], [], [], max(0.0, seconds))
        if ready:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._read, 512):
                    pass

    def close(self) -> None:
        signal.signal(signal.SIGCHLD, self._previous)
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._read)
        os.close(self._write)


class PollCadence:
    """The loop's regular polls: every ``interval`` seconds from ``start``, whatever
    extra polls happen in between (a task's end, a round that took a task)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._start = clock()

    def wait(self) -> float:
        """Seconds from now to the next regular poll: more than 0 and at most
        ``interval`` (0 for an interval of 0)."""
        if self.interval <= 0:
            return 0.0
        return self.interval - (self._clock() - self._start) % self.interval


class Pace:
    """Says when something is due that should run at most once every ``interval``
    seconds (and runs the first time it is asked)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        """True, and counted as done, when ``interval`` has passed since the last time
        this said so."""
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True
