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
from adjutant.container.errors import ContainerError, EngineTimeout, EngineUnavailable
from adjutant.container.frames import after_delivered
from adjutant.container.runtime import ContainerRuntime, OutputStream
from adjutant.container.spec import ContainerSpec, Stream

log = logging.getLogger(__name__)

#: Receives each chunk of output as it arrives. Called from a reader thread, one call at a
#: time; it may block (back-pressure), which pauses reading but loses nothing.
OutputSink = Callable[[Stream, bytes], None]

#: Pause between attempts to reach an engine that does not answer during a run.
ENGINE_RETRY_DELAY = 1.0
#: Pause before following the output again after the engine dropped the stream.
REATTACH_DELAY = 0.5

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

    When the engine drops the stream (it hung or restarted while the container ran on),
    the reader follows the output again from its first byte (``reopen``) and skips what
    it already delivered, stream by stream: nothing is lost, nothing doubled. Errors that
    are not the engine's (a sink that raises, output the runtime cannot parse) end it.
    ``stop()`` guarantees that no further chunk reaches the sink once it returns, so the
    runner can take over delivery from the byte counts without duplicating anything.
    """

    def __init__(self, stream: OutputStream, sink: OutputSink,
                 reopen: Callable[[], OutputStream] | None = None) -> None:
        super().__init__(name="container-output", daemon=True)
        self._stream = stream
        self._sink = sink
        self._reopen = reopen
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._finishing = False
        self.delivered = {Stream.STDOUT: 0, Stream.STDERR: 0}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self._follow():
                if self._stopped.wait(REATTACH_DELAY):
                    return
                try:
                    stream = self._reopen() if self._reopen is not None else None
                except ContainerError as exc:
                    log.info("re-attaching to the output failed (%s); retrying", exc)
                    continue
                with self._lock:
                    if stream is None or self._stopped.is_set():
                        if stream is not None:
                            stream.close()
                        return
                    self._stream = stream
                    if self._finishing:
                        stream.finish()
        except BaseException as exc:  # reported by the runner, never lost in the thread
            with self._lock:
                if not self._stopped.is_set():
                    self.error = exc

    def _follow(self) -> bool:
        """Deliver from the current stream; True when it ended, False when the engine
        broke it (the caller re-attaches)."""
        seen = {Stream.STDOUT: 0, Stream.STDERR: 0}
        chunks = iter(self._stream)
        while True:
            # Only the stream's own errors may mean the engine broke it; the sink's (a
            # full disk under build.log) end the run as they are.
            try:
                stream, data = next(chunks)
            except StopIteration:
                return True
            except Exception as exc:
                if self._stopped.is_set() or self._reopen is None or not _engine_broke(exc):
                    raise
                log.warning("the engine dropped the output stream (%s); re-attaching", exc)
                return False
            with self._lock:
                if self._stopped.is_set():
                    return True
                skip = self.delivered[stream] - seen[stream]
                seen[stream] += len(data)
                if skip >= len(data):
                    continue
                data = data[max(skip, 0):]
                self._sink(stream, data)
                self.delivered[stream] += len(data)

    def finish(self) -> bool:
        """The container has exited: ``OutputStream.finish`` of the stream followed now
        (and of any the reader follows after re-attaching)."""
        with self._lock:
            self._finishing = True
            return self._stream.finish()

    def stop(self) -> dict[Stream, int]:
        """Stop delivering (waiting for a chunk in progress) and return the byte counts."""
        with self._lock:
            self._stopped.set()
            self._stream.close()
            return dict(self.delivered)


def _engine_broke(exc: BaseException) -> bool:
    """True for an error that says the engine (not the container, nor the sink) failed:
    the contract's engine errors, or a transport error an SDK let through."""
    if isinstance(exc, (EngineTimeout, EngineUnavailable)):
        return True
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in (
        "requests", "urllib3", "http")


def run_container(
    runtime: ContainerRuntime,
    spec: ContainerSpec,
    sink: OutputSink,
    *,
    on_created: Callable[[str], None] | None = None,
    on_started: Callable[[], None] | None = None,
    keep: bool = False,
    remove_later: Callable[[str], None] | None = None,
) -> RunResult:
    """Create, start and wait for a container, streaming its output into ``sink``.

    ``on_created`` is told the container id before it starts (for cancellation).
    ``on_started`` is called once the container runs and its output is followed, before
    the wait: work of the caller's that can overlap the container's instead of delaying
    its start (exceptions from either propagate after cleanup, as below). When
    ``spec.timeout`` passes, the container is killed and the result has ``timed_out``.
    With a memory limit, the result's ``oom_killed`` says whether it was reached (asked
    of the engine and of the container's memory cgroup before removal).

    The engine may stop answering while the container runs (its service hung or
    restarted; the container runs on without it): the run waits for it for as long as
    the build may take (``spec.timeout``), then follows the output again from where it
    left off and ends as if nothing happened. When the engine stays away past the
    timeout, EngineUnavailable names it.

    Unless ``keep`` is set (the caller then owns removal, e.g. to commit it), the container
    is removed before this returns or raises (after an outage, once the engine answers
    again within its ``commit`` bound). Exceptions from the runtime or the sink propagate
    after cleanup. ``remove_later`` takes the removal of a container whose run ended: it
    is given the id instead (a worker task removes it while it reports); a run that
    raises still removes its container at once, as it may still be running.
    """
    started = time.monotonic()
    container_id = runtime.create(spec)
    log.info("created container %s (%s) from %s", container_id[:12], spec.command[0], spec.image)
    reader: _Reader | None = None
    output: OutputStream | None = None
    watch: OomWatch | None = None
    finished = False
    try:
        if on_created is not None:
            on_created(container_id)
        output = runtime.output(container_id)
        runtime.start(container_id)
        if spec.limits.memory_bytes:
            watch = runtime.watch_memory(container_id)
        reader = _Reader(output, sink, lambda: runtime.output(container_id))
        reader.start()
        if on_started is not None:
            on_started()
        exit_code, timed_out = _wait(runtime, container_id, spec, started)
        _finish_output(runtime, container_id, reader, sink)
        oom_killed = bool(spec.limits.memory_bytes) and runtime.oom_killed(container_id, watch)
        finished = True
        return RunResult(exit_code, timed_out, time.monotonic() - started, container_id,
                         oom_killed)
    finally:
        if watch is not None:
            watch.close()
        if reader is not None and reader.is_alive():
            reader.stop()
        elif output is not None and reader is None:
            output.close()
        if not keep and finished and remove_later is not None:
            remove_later(container_id)
        elif not keep:
            try:
                runtime.remove(container_id)
                log.info("removed container %s", container_id[:12])
            except ContainerError as exc:
                if finished:
                    raise
                # The error in flight says more; this one is only logged.
                log.error("could not remove container %s: %s", container_id[:12], exc)


def _wait(runtime: ContainerRuntime, container_id: str, spec: ContainerSpec,
          started: float) -> tuple[int, bool]:
    """The container's exit code and whether it was killed at ``spec.timeout``.

    An engine that does not answer is asked again until the timeout; then the container
    is killed, and when the engine cannot even be asked to do that, EngineUnavailable
    names it.
    """
    deadline = None if spec.timeout is None else started + spec.timeout
    outage: float | None = None
    while True:
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            exit_code = runtime.wait(container_id, remaining)
            if outage is not None:
                log.warning("%s answers again after %.0fs; container %s ran on",
                            runtime.name, time.monotonic() - outage, container_id[:12])
            return exit_code, False
        except TimeoutError:
            break
        except (EngineTimeout, EngineUnavailable) as exc:
            if outage is None:
                outage = time.monotonic()
                log.warning("%s does not answer while container %s runs (%s); waiting for "
                            "it until the build's timeout", runtime.name, container_id[:12],
                            exc)
            if deadline is not None and time.monotonic() >= deadline:
                raise _gone(runtime, container_id, spec, outage) from exc
            left = ENGINE_RETRY_DELAY if deadline is None else deadline - time.monotonic()
            time.sleep(max(min(ENGINE_RETRY_DELAY, left), 0.0))
    log.warning("container %s exceeded its %ss timeout; killing it", container_id,
                spec.timeout)
    try:
        runtime.kill(container_id)
        return runtime.wait(container_id, 30.0), True
    except (EngineTimeout, EngineUnavailable, TimeoutError) as exc:
        raise _gone(runtime, container_id, spec, outage) from exc


def _gone(runtime: ContainerRuntime, container_id: str, spec: ContainerSpec,
          since: float | None) -> EngineUnavailable:
    """The error for an engine that stayed away past the build's timeout."""
    how_long = "" if since is None else f" for {time.monotonic() - since:.0f}s"
    return EngineUnavailable(
        f"{runtime.name} did not answer{how_long} while container {container_id[:12]} ran, "
        f"and the build's {spec.timeout:g}s timeout passed: the {runtime.name} service is "
        "hung or down; the container is removed once it answers again")


def _finish_output(
    runtime: ContainerRuntime,
    container_id: str,
    reader: _Reader,
    sink: OutputSink,
) -> None:
    """Let the follower drain; if it lags or is stuck, deliver the rest from a direct read.

    A lagging follower that can end at once when told of the exit drains like any other:
    the whole output is then read once, not once followed and again from the start.
    """
    if not runtime.follow_lags or reader.finish():
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
    for stream, data in after_delivered(runtime.read_output(container_id), delivered):
        sink(stream, data)
