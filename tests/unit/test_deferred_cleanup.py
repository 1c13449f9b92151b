"""A task's deferred engine cleanup: in order, in the background, all done by finish."""

import logging
import signal
import threading
import time
from collections.abc import Callable

import koji
import pytest

from adjutant.container.errors import ContainerError
from adjutant.worker.cleanup import DeferredCleanup


def _held(done: list[str], name: str) -> tuple[threading.Event, Callable[[], None]]:
    """An action that records ``name`` once the returned event is set (at most 10 s)."""
    release = threading.Event()

    def action() -> None:
        release.wait(10)
        done.append(name)

    return release, action


def test_actions_run_in_order_while_the_caller_goes_on_and_finish_waits() -> None:
    cleanup = DeferredCleanup()
    done: list[str] = []
    release, slow = _held(done, "container")
    cleanup.defer("remove container a", slow)
    cleanup.defer("release the task's image name", lambda: done.append("image"))
    assert done == []  # the caller is not held up
    threading.Timer(0.2, release.set).start()
    started = time.monotonic()
    cleanup.finish()
    assert time.monotonic() - started >= 0.15
    assert done == ["container", "image"]


def test_the_first_failure_fails_the_task_naming_it_and_the_rest_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    cleanup = DeferredCleanup()
    done: list[str] = []

    def broken(what: str) -> None:
        raise ContainerError(f"podman: removing {what} failed: no space left")

    cleanup.defer("remove container a", lambda: broken("a"))
    cleanup.defer("remove container b", lambda: broken("b"))
    cleanup.defer("release the task's image name", lambda: done.append("image"))
    with caplog.at_level(logging.ERROR), pytest.raises(koji.BuildError) as failed:
        cleanup.finish()
    assert str(failed.value) == ("container failure: could not remove container a: "
                                 "podman: removing a failed: no space left")
    assert isinstance(failed.value.__cause__, ContainerError)
    assert done == ["image"]
    assert "could not remove container b" in caplog.text


def test_after_a_failed_task_every_failure_is_only_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    cleanup = DeferredCleanup()
    cleanup.defer("remove container a", lambda: (_ for _ in ()).throw(ContainerError("gone")))
    with caplog.at_level(logging.ERROR):
        cleanup.finish(raise_errors=False)
    assert "could not remove container a: gone" in caplog.text


def test_nothing_deferred_starts_no_thread() -> None:
    before = threading.active_count()
    DeferredCleanup().finish()
    assert threading.active_count() == before


def test_an_interrupted_finish_leaves_the_rest_to_the_next_one(
        caplog: pytest.LogCaptureFixture) -> None:
    cleanup = DeferredCleanup()
    done: list[str] = []
    release, slow = _held(done, "a")
    cleanup.defer("remove container a", slow)

    def gone() -> None:
        raise ContainerError("podman: no such container b")

    cleanup.defer("remove container b", gone)

    class Interrupted(BaseException):
        pass

    def interrupt(_signum: int, _frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(Interrupted):
            cleanup.finish()  # as a task's SIGTERM would, while "a" is still running
    finally:
        signal.signal(signal.SIGALRM, previous)
    release.set()
    with caplog.at_level(logging.ERROR):
        cleanup.finish(raise_errors=False)
    assert done == ["a"]
    assert "could not remove container b: podman: no such container b" in caplog.text
