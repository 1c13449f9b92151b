"""Built-in log sinks: ``file`` (a file in the task's work dir) and ``logger`` (daemon log)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from adjutant.plugin import LogSinkProvider, hookimpl


class FileSink:
    """Appends a log to ``<workdir>/<log name>``, flushing each write so tailers see it."""

    def __init__(self, name: str, context: Mapping[str, Any]) -> None:
        self.path = Path(context["workdir"]) / name
        self._fh: BinaryIO = open(self.path, "ab")  # noqa: SIM115 - closed by close()

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class LoggerSink:
    """Sends complete lines to the ``adjutant.task`` logger at DEBUG level."""

    def __init__(self, name: str, context: Mapping[str, Any]) -> None:
        self._log = logging.getLogger(f"adjutant.task.{context.get('task_id', 'local')}.{name}")
        self._partial = b""

    def write(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            self._log.debug("%s", line.decode("utf-8", "replace"))

    def close(self) -> None:
        if self._partial:
            self._log.debug("%s", self._partial.decode("utf-8", "replace"))
            self._partial = b""


@hookimpl
def adjutant_log_sinks() -> list[LogSinkProvider]:
    return [
        LogSinkProvider("file", FileSink, "the log as a file in the task's work directory"),
        LogSinkProvider("logger", LoggerSink, "each line to the daemon's logger (DEBUG)"),
    ]
