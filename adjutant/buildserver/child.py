"""A build server's forked child: it becomes the command and runs it.

The child takes the command's standard streams (with their encodings), working
directory, umask, niceness, resource limits and environment (and the time zone that
names), runs ``main`` on its arguments and sends back the status. The server has
already checked that the rest of the command's process (user, groups, interpreter and
import path, mount namespace) is its own, and that the limits and niceness can be taken.
"""

from __future__ import annotations

import io
import os
import resource
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from adjutant.build.termination import TERMINATING, unwind_on_termination
from adjutant.buildserver.wire import FORWARDED, Lines, Request, send_line

Main = Callable[[Sequence[str]], int]
_ENDING = (signal.SIGINT, *TERMINATING)


def run_child(conn: socket.socket, request: Request, fds: Sequence[int], main: Main) -> NoReturn:
    """Become the command of ``request``, run ``main`` on its arguments, send the status
    on ``conn`` and exit with it. Never returns, whatever happens."""
    code = 1
    finished = threading.Event()
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        unwind_on_termination()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        _reopen_stdio(request.streams.split(":"))
        conn.settimeout(None)
        send_line(conn, f"pid {os.getpid()}")
        threading.Thread(target=_watch, args=(conn, finished), daemon=True).start()
        _become(request)
        code = _call(main, request.argv)
    except BaseException:  # the child reports whatever happened, and exits
        traceback.print_exc()
    finally:
        # Nothing may interrupt the exit: an exception from here on would return into
        # the server's own code, in this process. (Ignored, a signal already caught is
        # dropped too, where a blocked one would still run its handler.)
        try:
            for sig in _ENDING:
                signal.signal(sig, signal.SIG_IGN)
            finished.set()
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            send_line(conn, f"exit {code}")
        except BaseException:  # a command gone or a stream closed: exit anyway
            pass
        os._exit(code)


def _become(request: Request) -> None:
    os.chdir(request.cwd)
    os.umask(request.umask)
    if request.nice > os.nice(0):
        os.nice(request.nice - os.nice(0))
    for name, limits in request.resource_limits().items():
        resource.setrlimit(getattr(resource, name), limits)
    os.environb.clear()
    os.environb.update(request.environment())
    time.tzset()
    sys.argv = ["adjutant", *request.argv]


def _call(main: Main, argv: Sequence[str]) -> int:
    """``main``'s status, as the interpreter would make it of a return or an exit."""
    try:
        return int(main(list(argv)))
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("adjutant: interrupted", file=sys.stderr)
        return 130


def _watch(conn: socket.socket, finished: threading.Event) -> None:
    """Pass the command's signals on to this process; its disappearance is a SIGTERM."""
    lines = Lines(conn)
    while True:
        try:
            line = lines.next()
        except OSError:
            line = None
        if finished.is_set():
            return
        if line is None:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        if line.startswith("signal "):
            signum = int(line[7:]) if line[7:].isdigit() else 0
            if signum in FORWARDED:
                os.kill(os.getpid(), signum)


def _reopen_stdio(streams: list[str]) -> None:
    """Text streams over the command's descriptors, with its encodings, buffered as
    Python buffers a command's own: output by line on a terminal, errors always."""
    encodings = [(streams[i], streams[i + 1]) if len(streams) >= i + 2 else ("utf-8", "strict")
                 for i in (0, 2, 4)]
    sys.stdin = _text(0, "rb", *encodings[0], line_buffering=False)
    sys.stdout = _text(1, "wb", *encodings[1], line_buffering=os.isatty(1))
    sys.stderr = _text(2, "wb", *encodings[2], line_buffering=True)


def _text(fd: int, mode: str, encoding: str, errors: str, line_buffering: bool) -> TextIO:
    """A text stream on ``fd``; closing it leaves ``fd`` open."""
    raw = io.open(fd, mode, closefd=False)  # noqa: SIM115, UP020 - sys.std* are never closed
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors,
                            line_buffering=line_buffering)
