"""The runner and a follower that notices a container's exit only by polling
(``follow_lags``, podman's): told of the exit, it drains and the output is read once;
one that cannot be hurried is taken over by ``read_output`` at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from adjutant.container.run import DRAIN_GRACE, run_container
from adjutant.container.runtime import OutputStream
from adjutant.container.spec import ContainerSpec, Stream
from tests.support.memruntime import MemoryRuntime

IMAGE = "localhost/memory:latest"
OUTPUT = [(Stream.STDOUT, b"one\n"), (Stream.STDERR, b"two\n"), (Stream.STDOUT, b"three")]


class _Lagging(OutputStream):
    """Delivers the first chunk, then waits: for ``finish`` (when it can be hurried) or
    for ``close``; it never notices the exit by itself within the test."""

    def __init__(self, hurried: bool) -> None:
        self.hurried = hurried
        self.wake = threading.Event()
        self.closed = False

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        yield OUTPUT[0]
        self.wake.wait(60)
        if not self.closed:
            yield from OUTPUT[1:]

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    def finish(self) -> bool:
        if self.hurried:
            self.wake.set()
        return self.hurried


class _LaggingRuntime(MemoryRuntime):
    follow_lags = True

    def __init__(self, hurried: bool) -> None:
        super().__init__({"prog": lambda run: (OUTPUT, 0)})
        self.hurried = hurried
        self.reads = 0

    def output(self, container_id: str) -> OutputStream:
        return _Lagging(self.hurried)

    def read_output(self, container_id: str) -> Iterator[tuple[Stream, bytes]]:
        self.reads += 1
        return super().read_output(container_id)


@pytest.mark.parametrize("hurried", [True, False], ids=["drains", "cannot-be-hurried"])
def test_the_output_is_whole_and_read_once_or_taken_over_at_once(hurried: bool) -> None:
    runtime = _LaggingRuntime(hurried)
    seen: list[tuple[Stream, bytes]] = []
    started = time.monotonic()
    result = run_container(runtime, ContainerSpec(IMAGE, ("prog",)),
                           lambda s, d: seen.append((s, d)))
    assert result.exit_code == 0
    assert seen == OUTPUT, "every byte once, in order"
    assert runtime.reads == (0 if hurried else 1)
    assert time.monotonic() - started < DRAIN_GRACE, "no wait for the drain grace"
    assert runtime.containers == {}
