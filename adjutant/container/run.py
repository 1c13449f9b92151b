"""Running one container to completion: the lifecycle every task phase goes through.

``run_container`` guarantees three things whatever happens (success, failure, timeout,
an exception in a sink, KeyboardInterrupt): every byte of output reaches the sink in
order, the run is bounded by the spec's timeout, and the container is removed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from adjutant.container.cgroups import OomWatch
from adjutant.container.runtime import ContainerRuntime, OutputStream
from adjutant.container.spec import ContainerSpec, Stream

log = logging.getLogger(__name__)

#: Receives each chunk of output as it arrives. Called from a reader thread, one call at a
#: time; it may block (back-pressure), which pauses reading but loses nothing.
OutputSink = Callable[[Stream, bytes], None]

#: How long the reader may keep delivering after the container exited before the runner
#: stops following and fetches the rest without following (engines can hang a follower).
DRAIN_GRACE = 5.0


@dataclass(frozen=True)
class RunResult:
    """How a container run ended. ``oom_killed``: the kernel killed one of its processes
    (any, not only the first) because the spec's memory limit was reached."""

    exit_code: int
    timed_out: bool
    duration: float
    container_id: str
    oom_killed: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class _Reader(threading.Thread):
    """Delivers a container's output to a sink, counting bytes per stream.

    ``stop()`` guarantees that no further chunk reaches the sink once it returns, so the
    runner can take over delivery from the byte counts without duplicating anything.
    """

    def __init__(self, stream: OutputStream, sink: OutputSink) -> None:
        super().__init__(name="container-output", daemon=True)
        self._stream = stream
        self._sink = sink
        self._lock = threading.Lock()
        self._stopped = False
        self.delivered = {Stream.STDOUT: 0, Stream.STDERR: 0}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for stream, data in self._stream:
                with self._lock:
                    if self._stopped:
                        return
                    self._sink(stream, data)
                    self.delivered[stream] += len(data)
        except BaseException as exc:  # reported by the runner, never lost in the thread
            with self._lock:
                if not self._stopped:
                    self.error = exc

    def stop(self) -> dict[Stream, int]:
        """Stop delivering (waiting for a chunk in progress) and return the byte counts."""
        with self._lock:
            self._stopped = True
            self._stream.close()
            return dict(self.delivered)


def run_container(
    runtime: ContainerRuntime,
    spec: ContainerSpec,
    sink: OutputSink,
    *,
    on_created: Callable[[str], None] | None = None,
    keep: bool = False,
) -> RunResult:
    """Create, start and wait for a container, streaming its output into ``sink``.

    ``on_created`` is told the container id before it starts (for cancellation). When
    ``spec.timeout`` passes, the container is killed and the result has ``timed_out``.
    With a memory limit, the result's ``oom_killed`` says whether it was reached (asked
    of the engine and of the container's memory cgroup before removal).
    Unless ``keep`` is set (the caller then owns removal, e.g. to commit it), the container
    is removed before this returns or raises. Exceptions from the runtime or the sink
    propagate after cleanup.
    """
    started = time.monotonic()
    container_id = runtime.create(spec)
    log.info("created container %s (%s) from %s", container_id[:12], spec.command[0], spec.image)
    reader: _Reader | None = None
    output: OutputStream | None = None
    watch: OomWatch | None = None
    try:
        if on_created is not None:
            on_created(container_id)
        output = runtime.output(container_id)
        runtime.start(container_id)
        if spec.limits.memory_bytes:
            watch = runtime.watch_memory(container_id)
        reader = _Reader(output, sink)
        reader.start()
        timed_out = False
        try:
            exit_code = runtime.wait(container_id, spec.timeout)
        except TimeoutError:
            log.warning("container %s exceeded its %ss timeout; killing it", container_id,
                        spec.timeout)
            timed_out = True
            runtime.kill(container_id)
            exit_code = runtime.wait(container_id, 30.0)
        _finish_output(runtime, container_id, reader, sink)
        oom_killed = bool(spec.limits.memory_bytes) and runtime.oom_killed(container_id, watch)
        return RunResult(exit_code, timed_out, time.monotonic() - started, container_id,
                         oom_killed)
    finally:
        if watch is not None:
            watch.close()
        if reader is not None and reader.is_alive():
            reader.stop()
        elif output is not None and reader is None:
            output.close()
        if not keep:
            runtime.remove(container_id)
            log.info("removed container %s", container_id[:12])


def _finish_output(
    runtime: ContainerRuntime,
    container_id: str,
    reader: _Reader,
    sink: OutputSink,
) -> None:
    """Let the follower drain; if it lags or is stuck, deliver the rest from a direct read."""
    if not runtime.follow_lags:
        reader.join(DRAIN_GRACE)
        if reader.error is not None:
            raise reader.error
        if not reader.is_alive():
            return
        log.warning("output follower of %s still busy %ss after exit; reading the rest "
                    "directly", container_id, DRAIN_GRACE)
    delivered = reader.stop()
    if reader.error is not None:
        raise reader.error
    seen = {Stream.STDOUT: 0, Stream.STDERR: 0}
    for stream, data in runtime.read_output(container_id):
        skip = delivered[stream] - seen[stream]
        seen[stream] += len(data)
        if skip < len(data):
            sink(stream, data[max(skip, 0):])
