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

    def write_output(self, _stream: Stream, data: bytes) -> None:
        """A container output sink: stdout and stderr both go to this log, in order."""
        self.write(data)

    def line(self, text: str) -> None:
        """Write one line of adjutant's own (e.g. the image used, a cache hit)."""
        self.write(f"{text.rstrip()}\n".encode())

    def close(self) -> None:
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
