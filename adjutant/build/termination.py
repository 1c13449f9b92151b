"""SIGTERM and SIGHUP as Ctrl-C: what a local build or shell does when it is killed."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

TERMINATING = (signal.SIGTERM, signal.SIGHUP)


def unwind_on_termination() -> dict[int, Callable[..., Any] | int | None]:
    """Make SIGTERM and SIGHUP unwind the process as Ctrl-C does, then exit 128+signal:
    its ``finally`` blocks run, so a build or shell that is killed removes its
    containers. The handlers it replaced, by signal."""
    return {sig: signal.signal(sig, _unwind) for sig in TERMINATING}


@contextmanager
def unwinding_on_termination() -> Iterator[None]:
    """:func:`unwind_on_termination` while the block runs; the handlers before it after."""
    previous = unwind_on_termination()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _unwind(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
