"""A stand-in for ``adjutant``'s command line, for a build server under test.

Each argument is a step: ``env:NAME`` prints the variable; ``cwd``, ``umask``, ``nice``,
``tz`` (the zone's abbreviation) and ``tty`` (whether standard output is a terminal, and
its encoding) print those; ``limit:RLIMIT_X`` prints that limit as soft:hard;
``print:TEXT`` and ``err:TEXT`` print to standard output and error; ``wait:PATH`` writes
PATH (that it is running) and sleeps until interrupted, then writes ``PATH.cleaned``
with how it was interrupted (so a test sees cleanup ran) and re-raises; ``exit:N`` exits
with N.
"""

from __future__ import annotations

import os
import resource
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
        elif kind == "print":
            print(value)
        elif kind == "nice":
            print(f"nice={os.nice(0)}")
        elif kind == "tz":
            print(f"tz={time.strftime('%Z')}")
        elif kind == "tty":
            print(f"tty={sys.stdout.isatty()} encoding={sys.stdout.encoding}")
        elif kind == "limit":
            soft, hard = resource.getrlimit(getattr(resource, value))
            print(f"{value}={soft}:{hard}")
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
