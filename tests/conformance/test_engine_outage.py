"""A short engine outage does not kill a healthy build; a long one fails naming the engine.

The engine service is frozen for real (SIGSTOP) while a container runs: conmon (podman)
and containerd-shim (docker) keep the container running meanwhile, as they do when the
service is restarted or wedged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from adjutant.container import (
    ContainerError,
    ContainerRuntime,
    ContainerSpec,
    EngineTimeouts,
)
from adjutant.container.run import RunResult, run_container
from adjutant.container.spec import Stream
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.testing.engines import bounded_runtime, engine_frozen, unique_label

pytestmark = pytest.mark.engine

#: The api bound in these tests; each freeze lasts several times longer.
API_BOUND = 2.0


@pytest.fixture(scope="module", params=["podman", "docker"])
def runtime(request: pytest.FixtureRequest) -> Iterator[ContainerRuntime]:
    yield from bounded_runtime(request.param, EngineTimeouts(api=API_BOUND, commit=60))


class _Lines:
    """A sink keeping stdout, and the time each chunk arrived."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lock = threading.Lock()

    def __call__(self, stream: Stream, data: bytes) -> None:
        assert stream is Stream.STDOUT
        with self.lock:
            self.data += data

    def lines(self) -> list[str]:
        with self.lock:
            return self.data.decode().splitlines()


def _in_thread(call: Callable[[], RunResult]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def _wait_for_lines(sink: _Lines, count: int, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while len(sink.lines()) < count:
        assert time.monotonic() < deadline, f"only {sink.lines()} arrived"
        time.sleep(0.05)


def test_a_freeze_longer_than_the_api_bound_loses_and_doubles_nothing(
        runtime: ContainerRuntime) -> None:
    """100 numbered lines over 10 s; the engine freezes for 6 s (3x the 2 s api bound)
    after the first 20. The run ends with exit 0 and every line exactly once, in order."""
    sink = _Lines()
    labels = unique_label()
    spec = ContainerSpec(image=DEFAULT_IMAGE, labels=labels, timeout=120, command=(
        "sh", "-c", "i=1; while [ $i -le 100 ]; do echo \"line $i\"; i=$((i+1)); "
                    "sleep 0.1; done"))
    thread, outcome = _in_thread(lambda: run_container(runtime, spec, sink))
    _wait_for_lines(sink, 20)
    with engine_frozen(runtime):
        time.sleep(6)
    thread.join(120)
    assert not thread.is_alive()
    result = outcome[0]
    assert isinstance(result, RunResult), result
    assert (result.exit_code, result.timed_out) == (0, False)
    assert sink.lines() == [f"line {i}" for i in range(1, 101)]
    assert runtime.list_containers(labels) == []


def test_a_freeze_past_the_build_timeout_fails_naming_the_engine(
        runtime: ContainerRuntime) -> None:
    """The engine freezes for 16 s, past the build's 5 s timeout (by more than a wait
    call's and a kill call's bounds together, so the outcome does not hang on how the
    calls fall under load): the run fails saying the engine did not answer, and the
    container is removed once the engine is back."""
    sink = _Lines()
    labels = unique_label()
    spec = ContainerSpec(image=DEFAULT_IMAGE, labels=labels, timeout=5,
                         command=("sh", "-c", "echo started; sleep 60"))
    thread, outcome = _in_thread(lambda: run_container(runtime, spec, sink))
    _wait_for_lines(sink, 1)
    started = time.monotonic()
    with engine_frozen(runtime):
        time.sleep(16)
    thread.join(120)
    assert not thread.is_alive()
    error = outcome[0]
    assert isinstance(error, ContainerError), error
    assert f"{runtime.name}" in str(error) and "did not answer" in str(error), error
    assert time.monotonic() - started < 60
    assert runtime.list_containers(labels) == []
