"""A stand-in for ``adjutant``'s command line, for a build server under test.

Each argument is a step: ``env:NAME`` prints the variable, ``cwd`` and ``umask`` print
them, ``err:TEXT`` prints to standard error, ``wait:PATH`` writes PATH (that it is
running) and sleeps until interrupted, then writes ``PATH.cleaned`` with how it was
interrupted (so a test sees cleanup ran) and re-raises; ``exit:N`` exits with N.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str]) -> int:
    for step in argv:
        kind, _, value = step.partition(":")
        if kind == "env":
            print(f"{value}={os.environ.get(value, '<unset>')}")
        elif kind == "cwd":
            print(f"cwd={os.getcwd()}")
        elif kind == "umask":
            mask = os.umask(0)
            os.umask(mask)
            print(f"umask={mask:o}")
        elif kind == "err":
            print(value, file=sys.stderr)
        elif kind == "wait":
            _wait(Path(value))
        elif kind == "exit":
            sys.exit(int(value))
    return 0


def _wait(marker: Path) -> None:
    marker.write_text(str(os.getpid()))
    try:
        time.sleep(120)
    except BaseException as exc:
        marker.with_suffix(".cleaned").write_text(f"{type(exc).__name__} {exc}".strip())
        raise
