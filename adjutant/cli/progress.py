"""Progress of ``adjutant build``'s phases: one line per phase, rewritten in place while
it runs on a terminal; plain lines, one per finished phase, anywhere else (logs, CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class PhaseProgress:
    """Writes to ``stream`` (stderr by default); ``terminal`` defaults to whether it is one."""

    def __init__(self, stream: TextIO | None = None, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self._started: dict[str, float] = {}

    def start(self, phase: str, text: str) -> None:
        self._started.setdefault(phase, time.monotonic())
        if self.terminal:
            self.stream.write(f"\r\033[K… {phase}: {text}")
            self.stream.flush()

    def done(self, phase: str, text: str) -> None:
        took = time.monotonic() - self._started.pop(phase, time.monotonic())
        timing = f" ({took:.1f}s)" if took >= 0.1 else ""
        if self.terminal:
            self.stream.write(f"\r\033[K\033[1m✓ {phase}\033[0m: {text}{timing}\n")
        else:
            self.stream.write(f"adjutant: {phase}: {text}{timing}\n")
        self.stream.flush()

    def failed(self, phase: str, text: str) -> None:
        """End a phase that failed (the error itself is printed by the caller)."""
        self._started.pop(phase, None)
        if self.terminal:
            self.stream.write(f"\r\033[K\033[1m✗ {phase}\033[0m: {text}\n")
            self.stream.flush()
