"""Where a build server listens, what a request carries, and the messages on its socket.

Every ``adjutant build`` loads this module before anything else, so it imports only what
an interpreter has already loaded or what is built into it: ``_socket`` and ``_signal``,
not ``socket`` and ``signal``, whose enums would cost every build 20 and 10 ms.

The socket is ``<runtime dir>/build-<key>.sock``. The runtime directory is
``$XDG_RUNTIME_DIR/koji-adjutant``, else ``/tmp/koji-adjutant-<uid>``; it must be a real
directory owned by the user that no one else may enter. That is checked on both sides,
since whoever could put a socket there would be handed the user's terminal and
environment. ``key`` is a hash of the interpreter's path: each virtualenv has its own
server, running its own installed code.

A request is one message: four bytes of length (big-endian), then NUL-separated fields
(no argument or environment string can hold a NUL): :data:`MAGIC`, the kind (``build``,
``status`` or ``stop``), the command's identity (:func:`identity`), its working
directory, umask (octal), niceness, resource limits, standard streams' encodings, the
number of arguments, the arguments, then ``NAME=VALUE`` environment entries. A ``build``
request carries the command's standard input, output and error as ``SCM_RIGHTS`` with
its first byte. The replies are lines: ``pid N`` (the child that runs the build),
``exit N`` (its status), ``refused REASON``, ``status JSON``, ``stopping``. Any time
after its request the command may send ``signal N`` lines for signals it receives.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # no stubs: the C half of ``signal``
import _socket
import os
import sys

MAGIC = b"adjutant-build/2"
KINDS = ("build", "status", "stop")
#: Longest request accepted: arguments and environment are far smaller in practice.
MAX_REQUEST = 8 << 20
#: Signals the command passes on to the build it handed over (SIGQUIT is not: its
#: default action would end the build without the cleanup these unwind through).
FORWARDED: tuple[int, ...] = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)
_INT = 4
#: The resource limits a build takes from its command.
LIMITS = ("RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
          "RLIMIT_MEMLOCK", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_STACK")


def runtime_dir() -> str:
    """The directory of this user's build server sockets (not created here)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return os.path.join(base, "koji-adjutant")
    return f"/tmp/koji-adjutant-{os.getuid()}"


def socket_path(directory: str | None = None) -> str:
    """The socket of the server for this interpreter."""
    key = 0xCBF29CE484222325  # FNV-1a: hashlib would cost an import
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
    except OSError as exc:
        return f"{directory} cannot be read ({exc.strerror})"
    if (info.st_mode & 0o170000) != 0o040000:
        return f"{directory} is not a directory"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to uid {info.st_uid}, not to this user ({os.getuid()})"
    if info.st_mode & 0o077:
        return f"{directory} is open to other users (mode {info.st_mode & 0o777:o})"
    return None


def peer_uid(sock: _socket.socket) -> int | None:
    """The uid of the process at the other end of a connected unix socket (``None``
    where the system cannot say: then no one is trusted)."""
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = sock.getsockopt(_socket.SOL_SOCKET, option, 3 * _INT)
    return int.from_bytes(creds[_INT:2 * _INT], sys.byteorder)


def import_path() -> list[str]:
    """``sys.path`` without the entry Python put first for how it was started (the
    script's directory, or the current one for ``-m`` and ``-c``; none with ``-P``)."""
    return list(sys.path) if sys.flags.safe_path else sys.path[1:]


def identity(import_path: list[str]) -> str:
    """What a command must share with the server that forks its build, beyond the user:
    the interpreter and its :func:`import_path`, the groups, the mount namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/mnt")
    except OSError:
        namespace = "unknown"
    groups = ",".join(str(g) for g in sorted(os.getgroups()))
    return "\n".join([sys.executable, f"gid {os.getgid()} groups {groups}", namespace,
                      *import_path])


class Request:
    """What a command asks of the server; ``environ`` as ``NAME=VALUE`` bytes.

    ``limits`` are ``NAME=SOFT:HARD`` (``-1``: unlimited); ``streams`` the encoding and
    errors of standard input, output and error, ``:``-separated. A plain class:
    ``dataclasses`` would cost every build 10 ms of imports.
    """

    __slots__ = ("argv", "cwd", "environ", "identity", "kind", "limits", "nice", "streams",
                 "umask")

    def __init__(self, kind: str, identity: str, cwd: str, umask: int, nice: int,
                 limits: tuple[str, ...], streams: str, argv: tuple[str, ...],
                 environ: tuple[bytes, ...]) -> None:
        self.kind = kind
        self.identity = identity
        self.cwd = cwd
        self.umask = umask
        self.nice = nice
        self.limits = limits
        self.streams = streams
        self.argv = argv
        self.environ = environ

    def encode(self) -> bytes:
        """The request as sent: its length, then its fields."""
        fields = [MAGIC, self.kind.encode(), os.fsencode(self.identity),
                  os.fsencode(self.cwd), f"{self.umask:o}".encode(), str(self.nice).encode(),
                  ",".join(self.limits).encode(), self.streams.encode(),
                  str(len(self.argv)).encode(), *map(os.fsencode, self.argv), *self.environ]
        body = b"\0".join(fields)
        return len(body).to_bytes(_INT, "big") + body

    @classmethod
    def decode(cls, body: bytes) -> Request:
        """Parse a request's body (after its length); ``ValueError`` names what is wrong."""
        fields = body.split(b"\0")
        if len(fields) < 9 or fields[0] != MAGIC:
            raise ValueError("not a build server request of this version")
        kind = fields[1].decode("ascii", "replace")
        if kind not in KINDS:
            raise ValueError(f"unknown request kind {kind!r}")
        count = int(fields[8])
        if not 0 <= count <= len(fields) - 9:
            raise ValueError(f"argument count {count} out of range")
        limits = tuple(fields[6].decode("ascii").split(",")) if fields[6] else ()
        argv = tuple(os.fsdecode(a) for a in fields[9:9 + count])
        environ = tuple(e for e in fields[9 + count:] if b"=" in e)
        return cls(kind, os.fsdecode(fields[2]), os.fsdecode(fields[3]), int(fields[4], 8),
                   int(fields[5]), limits, fields[7].decode("ascii"), argv, environ)

    def environment(self) -> dict[bytes, bytes]:
        """The command's environment, name to value."""
        pairs = (entry.partition(b"=") for entry in self.environ)
        return {name: value for name, _, value in pairs}

    def resource_limits(self) -> dict[str, tuple[int, int]]:
        """The command's resource limits, by ``resource`` name: (soft, hard)."""
        parsed = {}
        for entry in self.limits:
            name, _, values = entry.partition("=")
            soft, _, hard = values.partition(":")
            parsed[name] = (int(soft), int(hard))
        return parsed


def request_for(kind: str, argv: tuple[str, ...] = ()) -> Request:
    """A request of this process: its identity, directory, umask, niceness, limits,
    streams and environment. ``OSError`` when one cannot be read (a removed directory)."""
    import resource  # a built-in of a millisecond, only here where it is needed

    umask = os.umask(0o22)
    os.umask(umask)
    limits = []
    for name in LIMITS:
        soft, hard = resource.getrlimit(getattr(resource, name))
        limits.append(f"{name}={soft}:{hard}")
    streams = ":".join(f"{getattr(s, 'encoding', 'utf-8')}:{getattr(s, 'errors', 'strict')}"
                       for s in (sys.stdin, sys.stdout, sys.stderr))
    return Request(kind, identity(import_path()), os.getcwd(), umask, os.nice(0),
                   tuple(limits), streams, argv,
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
    """Send one message line (``line`` holds no newline)."""
    sock.sendall(line.encode() + b"\n")
