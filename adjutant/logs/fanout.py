"""One named log of a task, written to every configured sink."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from adjutant.container.spec import Stream
from adjutant.plugin.manager import Plugins
from adjutant.plugin.types import LogSink

log = logging.getLogger(__name__)

#: How much of one stream's output may wait for the other's line to end.
HOLD_LIMIT = 64 * 1024


class TaskLog:
    """Fans the bytes of one log out to its sinks, in order, losing nothing.

    A sink that raises is closed and dropped (and the failure logged) so that one broken
    destination does not fail the build; the ``file`` sink, which results are uploaded from,
    is never optional: its failure propagates.
    """

    def __init__(self, name: str, sinks: Sequence[tuple[str, LogSink]],
                 timestamps: Path | None = None) -> None:
        self.name = name
        self._sinks = list(sinks)
        self.size = 0
        self._ts: BinaryIO | None = None
        self._ts_second = 0
        #: The stream whose last chunk ended inside a line, and the other's chunks held.
        self._partial: Stream | None = None
        self._held: list[tuple[Stream, bytes]] = []
        self._held_size = 0
        if timestamps is not None:
            self._ts = open(timestamps, "ab")  # noqa: SIM115 - closed by close()
            self._stamp(force=True)

    @classmethod
    def open(cls, plugins: Plugins, name: str, sink_names: Sequence[str],
             context: Mapping[str, Any], timestamps: Path | None = None) -> TaskLog:
        """``timestamps``: also keep kojid's ``<name>-ts.log`` there (``log_timestamps``):
        lines ``<epoch seconds> <bytes of the log so far>``, at most one a second."""
        return cls(name, [(s, plugins.log_sink(s).factory(name, context)) for s in sink_names],
                   timestamps)

    def _stamp(self, force: bool = False) -> None:
        assert self._ts is not None
        now = time.time()
        if force or int(now) > self._ts_second:
            self._ts_second = int(now)
            self._ts.write(f"{now:.0f} {self.size}\n".encode())
            self._ts.flush()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._ts is not None:
            self._stamp()
        for entry in list(self._sinks):
            sink_name, sink = entry
            try:
                sink.write(data)
            except Exception:
                if sink_name == "file":
                    raise
                log.exception("log sink %r failed on %s; dropping it", sink_name, self.name)
                self._sinks.remove(entry)

    def write_output(self, stream: Stream, data: bytes) -> None:
        """A container output sink: stdout and stderr both go to this log, in order, each
        line whole. The engine reads the two streams apart, so a chunk of one may arrive
        while the other is inside a line: that chunk waits (up to ``HOLD_LIMIT`` bytes)
        until the line ends, rather than cutting it in two."""
        if self._partial is not None and stream is not self._partial:
            self._held.append((stream, data))
            self._held_size += len(data)
            if self._held_size > HOLD_LIMIT:
                self._release()
            return
        # With chunks held, they go right after the line that kept them waiting.
        end = (data.find(b"\n") if self._held else data.rfind(b"\n")) + 1
        if end == 0:
            self.write(data)
            self._partial = stream if data else self._partial
            return
        self.write(data[:end])
        self._partial = None
        self._release()
        if end < len(data):
            self.write_output(stream, data[end:])

    def _release(self) -> None:
        """Write the held chunks (the line they waited for ended, or they waited too
        long), each as output of its own stream again."""
        held, self._held, self._held_size = self._held, [], 0
        self._partial = None
        for stream, data in held:
            self.write_output(stream, data)

    def line(self, text: str) -> None:
        """Write one line of adjutant's own (e.g. the image used, a cache hit)."""
        self._release()  # a container's held output comes before what adjutant says next
        self.write(f"{text.rstrip()}\n".encode())

    def close(self) -> None:
        self._release()
        if self._ts is not None:
            self._stamp(force=True)
            self._ts.close()
            self._ts = None
        for sink_name, sink in self._sinks:
            try:
                sink.close()
            except Exception:
                log.exception("closing log sink %r of %s failed", sink_name, self.name)
        self._sinks.clear()

    def __enter__(self) -> TaskLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
