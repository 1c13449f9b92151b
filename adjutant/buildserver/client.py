"""The command's side: hand a build to this user's build server, if one is up.

Like :mod:`.wire`, this runs before anything else in ``adjutant build`` and imports only
built-in modules.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # no stubs: the C half of ``signal``
import _socket
import os
import sys

from adjutant.buildserver.wire import (
    FORWARDED,
    Lines,
    peer_uid,
    private_dir_problem,
    request_for,
    runtime_dir,
    send_line,
    socket_path,
)

#: Set (to anything) to never use a build server.
OPT_OUT = "ADJUTANT_NO_BUILD_SERVER"
#: How long a server may take to take the build (say ``pid``) before the command builds
#: itself. A child that starts later finds the command gone and exits before building.
TAKE_TIMEOUT = 5.0


def connect(directory: str | None = None) -> _socket.socket | None:
    """A connection to this interpreter's build server; ``None`` when none answers, its
    directory or process is not this user's alone, or the socket would take the place
    of a closed standard stream (a build must not get the socket as its output)."""
    try:
        directory = directory or runtime_dir()
        if private_dir_problem(directory) is not None:
            return None
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        if sock.fileno() > 2:
            sock.connect(socket_path(directory))
            if peer_uid(sock) == os.getuid():
                return sock
    except OSError:
        pass
    sock.close()
    return None


class Handover:
    """What became of a command offered to the build server: ``code`` is the build's exit
    status once the server took it (``None`` when it did not); ``answered`` says whether
    a server was there at all (``False`` also when the opt-out variable is set)."""

    __slots__ = ("answered", "code")

    def __init__(self, code: int | None, answered: bool) -> None:
        self.code = code
        self.answered = answered


def served(argv: list[str], directory: str | None = None) -> int | None:
    """:func:`offer` ARGV; the build's exit status, ``None`` when the server did not take
    it (the caller then runs the command itself)."""
    return offer(argv, directory).code


def offer(argv: list[str], directory: str | None = None) -> Handover:
    """Run ``adjutant ARGV`` on the build server, if one answers and takes it.

    It is not taken when none is running, the opt-out variable is set, or the server
    refused (saying why on standard error). Once the server has taken it, the build is
    the server's: the result is its status, and the signals in :data:`FORWARDED` this
    process gets are passed on.
    """
    if os.environ.get(OPT_OUT):
        return Handover(None, answered=False)
    sock = connect(directory)
    if sock is None:
        return Handover(None, answered=False)

    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        try:  # noqa: SIM105 - contextlib would cost every build its import
            send_line(sock, f"signal {signum}")
        except OSError:
            pass

    # From the request on, a signal is the build's: the child applies what it finds
    # queued on the connection once it runs.
    previous = {sig: _signal.signal(sig, forward) for sig in FORWARDED}
    try:
        code = _hand_over(sock, argv)
    finally:
        sock.close()
        for sig, handler in previous.items():
            _signal.signal(sig, handler)
    if code is None and received:
        os.kill(os.getpid(), received[0])  # the build was not taken: the signal is ours
    return Handover(code, answered=True)


def _hand_over(sock: _socket.socket, argv: list[str]) -> int | None:
    """Send the request; the build's status once it ends, ``None`` if it was not taken."""
    try:
        data = request_for("build", tuple(argv)).encode()
        fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
        sock.sendmsg([data[:1]], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        sock.sendall(data[1:])
        sock.settimeout(TAKE_TIMEOUT)
        lines = Lines(sock)
        first = lines.next()
        sock.settimeout(None)
    except OSError:
        return None
    if first is None or not first.startswith("pid "):
        if first and first.startswith("refused "):
            print(f"adjutant: the build server did not take the build: {first[8:]}; "
                  "building in this process", file=sys.stderr)
        return None
    return _status(lines)


def _status(lines: Lines) -> int:
    """The build's exit status, when its child sends it."""
    while True:
        try:
            line = lines.next()
        except OSError:
            line = None
        if line is None:
            print("adjutant: the build ended without reporting its status (its process "
                  "was killed?); see the build server's log", file=sys.stderr)
            return 1
        if line.startswith("exit "):
            return int(line[5:])
