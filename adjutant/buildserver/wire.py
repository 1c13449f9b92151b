"""Where a build server listens, and the messages on its socket.

Every ``adjutant build`` loads this module before anything else, so it imports only what
an interpreter has already loaded or what is built into it (``_socket``, not ``socket``:
the latter's enums cost 20 ms, a fifth of what the server saves).

The socket is ``<runtime dir>/build-<key>.sock``. The runtime directory is
``$XDG_RUNTIME_DIR/koji-adjutant``, else ``/tmp/koji-adjutant-<uid>``; it must be a real
directory owned by the user that no one else may enter. That is checked on both sides,
since whoever could put a socket there would be handed the user's terminal and
environment. ``key`` is a hash of the interpreter's path: each virtualenv has its own
server, running its own installed code.

A request is one message: four bytes of length (big-endian), then NUL-separated fields
(no argument or environment string can hold a NUL): :data:`MAGIC`, the kind (``build``,
``status`` or ``stop``), the interpreter's path, the working directory, the umask in
octal, the number of arguments, the arguments, then ``NAME=VALUE`` environment entries.
A ``build`` request carries the command's standard input, output and error as
``SCM_RIGHTS`` with its first bytes. The replies are lines: ``pid N`` (the child that
runs the build), ``exit N`` (its status), ``refused REASON``, ``status JSON``; after
``pid``, the command sends ``signal N`` lines for signals it receives.
"""

from __future__ import annotations

import _socket
import os
import sys

MAGIC = b"adjutant-build/1"
KINDS = ("build", "status", "stop")
#: Longest request accepted: arguments and environment are far smaller in practice.
MAX_REQUEST = 8 << 20
_INT = 4


def runtime_dir() -> str:
    """The directory of this user's build server sockets (not created here)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return os.path.join(base, "koji-adjutant")
    return f"/tmp/koji-adjutant-{os.getuid()}"


def socket_path(directory: str | None = None) -> str:
    """The socket of the server for this interpreter."""
    key = 0xCBF29CE484222325
    for byte in os.fsencode(sys.executable):
        key = ((key ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(directory or runtime_dir(), f"build-{key:016x}.sock")


def private_dir_problem(directory: str) -> str | None:
    """Why ``directory`` may not hold this user's sockets (``None``: it may).

    It must be a directory, not a link to one, owned by this user, with no access for
    group or others.
    """
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return f"{directory} does not exist"
    if (info.st_mode & 0o170000) != 0o040000:
        return f"{directory} is not a directory"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to uid {info.st_uid}, not to this user ({os.getuid()})"
    if info.st_mode & 0o077:
        return f"{directory} is open to other users (mode {info.st_mode & 0o777:o})"
    return None


def peer_uid(sock: _socket.socket) -> int:
    """The uid of the process at the other end of a connected unix socket."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 3 * _INT)
    return int.from_bytes(creds[_INT:2 * _INT], sys.byteorder)


class Request:
    """What a command asks of the server; ``environ`` as ``NAME=VALUE`` bytes.

    A plain class: ``dataclasses`` would cost every build 10 ms of imports.
    """

    __slots__ = ("argv", "cwd", "environ", "executable", "kind", "umask")

    def __init__(self, kind: str, executable: str, cwd: str, umask: int,
                 argv: tuple[str, ...], environ: tuple[bytes, ...]) -> None:
        self.kind = kind
        self.executable = executable
        self.cwd = cwd
        self.umask = umask
        self.argv = argv
        self.environ = environ

    def encode(self) -> bytes:
        fields = [MAGIC, self.kind.encode(), os.fsencode(self.executable),
                  os.fsencode(self.cwd), f"{self.umask:o}".encode(),
                  str(len(self.argv)).encode(), *map(os.fsencode, self.argv), *self.environ]
        body = b"\0".join(fields)
        return len(body).to_bytes(_INT, "big") + body

    @classmethod
    def decode(cls, body: bytes) -> Request:
        """Parse a request's body (after its length); ``ValueError`` names what is wrong."""
        fields = body.split(b"\0")
        if len(fields) < 6 or fields[0] != MAGIC:
            raise ValueError("not a build server request of this version")
        kind = fields[1].decode("ascii", "replace")
        if kind not in KINDS:
            raise ValueError(f"unknown request kind {kind!r}")
        count = int(fields[5])
        if not 0 <= count <= len(fields) - 6:
            raise ValueError("argument count out of range")
        argv = tuple(os.fsdecode(a) for a in fields[6:6 + count])
        environ = tuple(e for e in fields[6 + count:] if b"=" in e)
        return cls(kind, os.fsdecode(fields[2]), os.fsdecode(fields[3]), int(fields[4], 8),
                   argv, environ)

    def environment(self) -> dict[bytes, bytes]:
        pairs = (entry.partition(b"=") for entry in self.environ)
        return {name: value for name, _, value in pairs}


def request_for(kind: str, argv: tuple[str, ...] = ()) -> Request:
    """A request of this process: its interpreter, directory, umask and environment."""
    umask = os.umask(0o22)
    os.umask(umask)
    return Request(kind, sys.executable, os.getcwd(), umask, argv,
                   tuple(k + b"=" + v for k, v in os.environb.items()))


def recv_exactly(sock: _socket.socket, size: int) -> bytes:
    """``size`` bytes from ``sock``; ``EOFError`` when it closes first."""
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 16))
        if not chunk:
            raise EOFError("the connection closed mid-message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Lines:
    """The lines arriving on a socket, one at a time, without their newline."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self) -> str | None:
        """The next line; ``None`` once the other side has closed."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8", "replace")


def send_line(sock: _socket.socket, line: str) -> None:
    sock.sendall(line.encode() + b"\n")
