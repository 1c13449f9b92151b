"""The command's side: hand a build to this user's build server, if one is up.

Like :mod:`.wire`, this runs before anything else in ``adjutant build`` and imports
only built-in modules (``_signal``, not ``signal``).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's enums cost 10 ms
import _socket
import os
import sys

from adjutant.buildserver.wire import (
    Lines,
    peer_uid,
    private_dir_problem,
    request_for,
    runtime_dir,
    send_line,
    socket_path,
)

#: Signals the command passes on to the build it handed over.
FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
#: Set (to anything) to never use a build server.
OPT_OUT = "ADJUTANT_NO_BUILD_SERVER"


def connect(directory: str | None = None) -> _socket.socket | None:
    """A connection to this interpreter's build server; ``None`` when none answers or
    its directory or process is not this user's alone."""
    directory = directory or runtime_dir()
    if private_dir_problem(directory) is not None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(socket_path(directory))
        if peer_uid(sock) == os.getuid():
            return sock
    except OSError:
        pass
    sock.close()
    return None


def served(argv: list[str], directory: str | None = None) -> int | None:
    """Run ``adjutant ARGV`` on the build server; its exit status.

    ``None`` when the server did not take it (none is running, the opt-out variable is
    set, or the server refused, saying why on standard error): the caller then runs the
    command itself. Once the server has taken it, the build is the server's: the result
    is its status, and signals this process gets are passed on to it.
    """
    if os.environ.get(OPT_OUT):
        return None
    sock = connect(directory)
    if sock is None:
        return None
    try:
        data = request_for("build", tuple(argv)).encode()
        try:
            sock.sendmsg([data[:1]], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                                       b"".join(fd.to_bytes(4, sys.byteorder)
                                                for fd in (0, 1, 2)))])
            sock.sendall(data[1:])
            lines = Lines(sock)
            first = lines.next()
        except OSError:
            return None
        if first is None or not first.startswith("pid "):
            if first and first.startswith("refused "):
                print(f"adjutant: the build server did not take the build: {first[8:]}; "
                      "building here", file=sys.stderr)
            return None
        return _follow(sock, lines)
    finally:
        sock.close()


def _follow(sock: _socket.socket, lines: Lines) -> int:
    """Wait for the build's status, passing signals on; restore the handlers after."""

    def forward(signum: int, _frame: object) -> None:
        try:  # noqa: SIM105 - contextlib costs every build its import
            send_line(sock, f"signal {signum}")
        except OSError:
            pass

    previous = {sig: _signal.signal(sig, forward) for sig in FORWARDED}
    try:
        while True:
            try:
                line = lines.next()
            except OSError:
                line = None
            if line is None:
                print("adjutant: the build server went away during the build",
                      file=sys.stderr)
                return 1
            if line.startswith("exit "):
                return int(line[5:])
    finally:
        for sig, handler in previous.items():
            _signal.signal(sig, handler)
