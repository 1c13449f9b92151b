"""The main loop's rounds and its timing: the regular poll keeps its cadence whatever
extra rounds a task's end causes, the buildroot sweep runs at most once an interval,
and a failed round is followed by a sleep, not by another round at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import koji
import pytest

from adjutant.worker.loop import LoopEnd, serve
from adjutant.worker.pacing import Pace, PollCadence


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class _Enough(BaseException):
    """Ends a loop under test, as a stop signal does."""


class FakeManager:
    """koji's TaskManager as the loop sees it: each round runs the next of ``rounds``
    (returns whether it took a task, or raises)."""

    def __init__(self, rounds: list[Callable[[], bool]], clock: Clock) -> None:
        self.rounds, self.clock = list(rounds), clock
        self.log: list[tuple[str, float]] = []

    def updateTasks(self) -> None:
        self.log.append(("updateTasks", self.clock.now))

    def getNextTask(self) -> bool:
        if not self.rounds:
            raise _Enough()
        return self.rounds.pop(0)()

    def updateBuildroots(self) -> None:
        self.log.append(("updateBuildroots", self.clock.now))


def _takes_nothing() -> bool:
    return False


def sleeper(clock: Clock, woken_after: list[float | None]) -> tuple[Callable[[float], None],
                                                                    list[float]]:
    """A sleep that records what it was asked and moves the clock: by the whole time,
    or by the next of ``woken_after`` when that is set (a task's end cut it short)."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(round(seconds, 6))
        early = woken_after.pop(0) if woken_after else None
        clock.now += seconds if early is None else early

    return sleep, asked


def test_the_sweep_runs_at_once_then_at_most_once_an_interval() -> None:
    clock = Clock()
    pace = Pace(15, clock=clock)
    assert pace.due()
    for now, due in ((100.1, False), (114.9, False), (115.0, True), (120.0, False),
                     (140.0, True)):
        clock.now = now
        assert pace.due() is due, now


def test_a_zero_interval_sweeps_every_round_and_never_sleeps() -> None:
    clock = Clock()
    pace = Pace(0, clock=clock)
    assert all(pace.due() for _ in range(3))
    assert PollCadence(0, clock=clock).wait() == 0.0


def test_the_regular_poll_keeps_its_cadence_after_an_early_wake() -> None:
    clock = Clock(100.0)
    cadence = PollCadence(15, clock=clock)
    assert cadence.wait() == 15
    clock.now = 100.3  # a task's end woke the loop 0.3 s into its sleep
    assert cadence.wait() == pytest.approx(14.7)
    clock.now = 114.99
    assert cadence.wait() == pytest.approx(0.01)
    clock.now = 115.0
    assert cadence.wait() == 15
    clock.now = 131.0  # a long round: the next poll is the next one on the cadence
    assert cadence.wait() == pytest.approx(14.0)


def test_an_extra_round_does_not_postpone_the_next_regular_poll() -> None:
    clock = Clock(100.0)
    manager = FakeManager([_takes_nothing] * 4, clock)
    # The first sleep is cut short after 0.4 s (a task ended); the rest run in full.
    sleep, asked = sleeper(clock, [0.4])
    with pytest.raises(_Enough):
        serve(manager, 1.0, sleep, clock=clock)
    # After the early wake at 100.4, the loop sleeps until 101.0, not until 101.4.
    assert asked == [1.0, 0.6, 1.0, 1.0]
    rounds = [t for name, t in manager.log if name == "updateTasks"]
    assert rounds == pytest.approx([100.0, 100.4, 101.0, 102.0, 103.0])


def test_a_round_that_takes_a_task_is_followed_at_once_and_sweeps_nothing() -> None:
    clock = Clock()
    manager = FakeManager([lambda: True, lambda: True, lambda: False], clock)
    sleep, asked = sleeper(clock, [])
    with pytest.raises(_Enough):
        serve(manager, 5.0, sleep, clock=clock)
    assert asked == [5.0]  # only after the round that took nothing
    assert [name for name, _ in manager.log].count("updateBuildroots") == 1


def test_a_failed_round_after_a_take_sleeps_instead_of_retrying_at_once() -> None:
    clock = Clock()

    def fails() -> bool:
        raise koji.GenericError("the hub's database is down")

    manager = FakeManager([lambda: True, fails, fails], clock)
    sleep, asked = sleeper(clock, [])
    with pytest.raises(_Enough):
        serve(manager, 2.0, sleep, clock=clock)
    assert asked == [2.0, 2.0]  # one sleep after each failed round


@pytest.mark.parametrize(("raised", "end"), [
    (koji.AuthError("expired"), LoopEnd.SESSION_LOST),
    (koji.RetryError("the hub cannot rerun call 12"), LoopEnd.SESSION_LOST),
    (koji.tasks.ServerRestart(), LoopEnd.RESTART),
])
def test_the_loop_ends_on_a_lost_session_or_a_restart(raised: Exception,
                                                      end: LoopEnd) -> None:
    def round_() -> Any:
        raise raised

    clock = Clock()
    assert serve(FakeManager([round_], clock), 1.0, sleeper(clock, [])[0],
                 clock=clock) is end


def test_one_round_with_once_sweeps_and_returns() -> None:
    clock = Clock()
    manager = FakeManager([lambda: True], clock)
    assert serve(manager, 1.0, sleeper(clock, [])[0], once=True, clock=clock) \
        is LoopEnd.ONCE
    assert [name for name, _ in manager.log] == ["updateTasks", "updateBuildroots"]



def test_koji_shutdown_leaves_the_loop_as_raised() -> None:
    def round_() -> Any:
        raise koji.tasks.ServerExit()

    clock = Clock()
    with pytest.raises(koji.tasks.ServerExit):
        serve(FakeManager([round_], clock), 1.0, sleeper(clock, [])[0], clock=clock)
