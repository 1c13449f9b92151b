"""The build server process: loads the build path once, then forks a child per build.

Run by ``adjutant build-server start`` as ``python -m adjutant.buildserver.server``, in
a session of its own, its output going to a log file beside the socket. The server
itself never builds and holds no engine connection: a child is a fork of a process that
has only imported code, and opens its own connections as the command would.

The server takes a build only from a command of its own user, interpreter, import path,
groups and mount namespace, whose resource limits and niceness its child can take on;
otherwise it refuses, saying why, and the command builds in its own process. It stops
when told (``stop``, SIGTERM), after ``idle_timeout`` seconds with no build, or when the
code it loaded has changed on disk (a package installed, upgraded or removed in its
environment, or a module edited): it then refuses the build that found out and exits.
Builds still running when it stops finish on their own.
"""

from __future__ import annotations

import argparse
import array
import fcntl
import gc
import json
import os
import resource
import signal
import socket
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from adjutant.buildserver.child import Main, run_child
from adjutant.buildserver.wire import (
    MAX_REQUEST,
    Request,
    identity,
    import_path,
    peer_uid,
    private_dir_problem,
    recv_exactly,
    send_line,
    socket_path,
)

#: How long a connected command may take to send its request.
REQUEST_TIMEOUT = 10.0
_FD_SIZE = array.array("i").itemsize


class ServerError(Exception):
    """The server cannot listen: its directory or socket path is not usable."""


def code_fingerprint() -> dict[str, int]:
    """When the code this process loaded last changed, by path (``mtime_ns``).

    Covers each directory on ``sys.path`` (installing, upgrading or removing a package
    changes its directory) and each loaded module's file outside the standard library
    (an edit in an editable install).
    """
    stdlib = sysconfig.get_paths()["stdlib"]
    paths = {p for p in sys.path if p and os.path.isdir(p)}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and not path.startswith(stdlib):
            paths.add(path)
    stamps = {}
    for path in paths:
        try:
            stamps[path] = os.stat(path).st_mtime_ns
        except OSError:
            stamps[path] = -1
    return stamps


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}", file=sys.stderr, flush=True)


class BuildServer:
    """Listens on ``directory``'s socket and runs each build request's ``main`` in a child.

    ``main`` is ``adjutant``'s command line knowing only ``build`` (see :func:`serve`)
    unless a test gives another; it must already be loaded, with what it loads, when the
    server is made: the fingerprint of the code is taken then. ``identity`` is this
    process's (:func:`adjutant.buildserver.wire.identity`): a command's must equal it.
    """

    def __init__(self, directory: str, main: Main, identity: str,
                 idle_timeout: float = 0.0) -> None:
        self.directory = directory
        self.path = socket_path(directory)
        self.main = main
        self.identity = identity
        self.idle_timeout = idle_timeout
        self.fingerprint = code_fingerprint()
        self.started = time.time()
        self.served = 0
        self.children: dict[int, float] = {}
        self.stopping = False
        self.inode = -1
        self.listener = self._listen()

    def _listen(self) -> socket.socket:
        problem = private_dir_problem(self.directory)
        if problem:
            raise ServerError(f"cannot use {self.directory} for the build server socket: "
                              f"{problem}; remove it or set XDG_RUNTIME_DIR")
        with _locked(self.path + ".lock"):  # one starting server at a time probes and binds
            if os.path.lexists(self.path):
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                with probe:
                    try:
                        probe.connect(self.path)
                    except OSError:
                        os.unlink(self.path)  # left by a server that died
                    else:
                        raise ServerError(f"a build server already listens on {self.path}")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o177)
            try:
                listener.bind(self.path)
            finally:
                os.umask(old)
            listener.listen(16)
        listener.settimeout(1.0)
        self.inode = os.lstat(self.path).st_ino
        return listener

    def serve_forever(self) -> None:
        """Answer requests until stopped; remove the socket on the way out."""
        last = time.monotonic()
        try:
            while not self.stopping:
                try:
                    conn, _ = self.listener.accept()
                except TimeoutError:
                    conn = None
                if conn is not None and self._handle(conn):
                    last = time.monotonic()
                if self._reap():
                    last = time.monotonic()
                if (conn is None and self.idle_timeout and not self.children
                        and time.monotonic() - last > self.idle_timeout):
                    log(f"no build for {self.idle_timeout:g} s: stopping")
                    break
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening; remove the socket unless another server has replaced it."""
        self.listener.close()
        try:
            if os.lstat(self.path).st_ino == self.inode:
                os.unlink(self.path)
        except OSError:
            pass

    def _reap(self) -> bool:
        reaped = False
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid == 0:
                break
            began = self.children.pop(pid, time.monotonic())
            log(f"build pid {pid} ended with status {os.waitstatus_to_exitcode(status)} "
                f"after {time.monotonic() - began:.1f} s")
            reaped = True
        return reaped

    def _handle(self, conn: socket.socket) -> bool:
        """Answer one connection; whether it started a build."""
        fds: list[int] = []
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            if peer_uid(conn) != os.getuid():
                log("refused a connection from another user")
                return False
            request, fds = _read(conn)
            if request.kind == "status":
                send_line(conn, "status " + json.dumps(self.status()))
            elif request.kind == "stop":
                log("told to stop")
                send_line(conn, "stopping")
                self.stopping = True
            else:
                return self._build(conn, request, fds)
        except (OSError, EOFError, ValueError) as exc:
            log(f"dropped a request: {exc}")
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()
        return False

    def status(self) -> dict[str, object]:
        """The server's figures; ``stale`` when the code it loaded has changed since."""
        return {"pid": os.getpid(), "socket": self.path, "executable": sys.executable,
                "started": self.started, "served": self.served,
                "running": len(self.children), "idle_timeout": self.idle_timeout,
                "stale": bool(self._changed())}

    def _changed(self) -> list[str]:
        return sorted(p for p, m in code_fingerprint().items()
                      if self.fingerprint.get(p) != m)

    def _build(self, conn: socket.socket, request: Request, fds: list[int]) -> bool:
        refusal = self.refusal(request, fds)
        if refusal:
            send_line(conn, f"refused {refusal}")
            log(f"refused a build: {refusal}")
            return False
        changed = self._changed()
        if changed:
            send_line(conn, f"refused the installed code changed since it started "
                            f"({changed[0]}); it has stopped: 'adjutant build-server "
                            f"start' starts it again")
            log(f"code changed ({', '.join(changed[:5])}): stopping")
            self.stopping = True
            return False
        pid = os.fork()
        if pid == 0:
            try:
                self.listener.close()
                run_child(conn, request, fds, self.main)
            finally:
                os._exit(70)  # never back into the server's loop, in a child
        self.served += 1
        self.children[pid] = time.monotonic()
        log(f"build pid {pid}: adjutant {' '.join(request.argv)} (in {request.cwd})")
        return True

    def refusal(self, request: Request, fds: Sequence[int]) -> str | None:
        """Why this server's child could not be ``request``'s command (``None``: it can)."""
        if len(fds) != 3:
            return "a build needs the command's standard input, output and error"
        if request.identity != self.identity:
            ours, theirs = self.identity.split("\n"), request.identity.split("\n")
            what = ("interpreter", "groups", "mount namespace")
            for i, name in enumerate(what):
                if ours[i:i + 1] != theirs[i:i + 1]:
                    return f"the command's {name} differs from the server's " \
                           f"({theirs[i] if i < len(theirs) else '?'}, not {ours[i]})"
            return "the command's Python import path differs from the server's " \
                   "(PYTHONPATH?); start the server from the same environment"
        for name, (soft, hard) in request.resource_limits().items():
            _, own_hard = resource.getrlimit(getattr(resource, name))
            if _above(hard, own_hard) or _above(soft, hard):
                return f"the command's {name} ({soft}:{hard}) is above the server's " \
                       f"hard limit ({own_hard})"
        if request.nice < os.nice(0):
            return f"the command's niceness ({request.nice}) is below the server's " \
                   f"({os.nice(0)})"
        return None


def _above(value: int, limit: int) -> bool:
    """Whether resource limit ``value`` exceeds ``limit`` (``-1``: unlimited)."""
    if limit == resource.RLIM_INFINITY:
        return False
    return value == resource.RLIM_INFINITY or value > limit


def _read(conn: socket.socket) -> tuple[Request, list[int]]:
    """The request on ``conn`` and the descriptors it carried (closed when it is bad)."""
    fds = array.array("i")
    try:
        head, ancillary, flags, _ = conn.recvmsg(1, socket.CMSG_LEN(3 * _FD_SIZE),
                                                 socket.MSG_CMSG_CLOEXEC)
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % _FD_SIZE])
        if not head:
            raise EOFError("the command closed the connection before asking")
        if flags & socket.MSG_CTRUNC:
            raise ValueError("more descriptors than a request carries")
        size = int.from_bytes(head + recv_exactly(conn, 3), "big")
        if size > MAX_REQUEST:
            raise ValueError(f"a request of {size} bytes")
        return Request.decode(recv_exactly(conn, size)), list(fds)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


@contextmanager
def _locked(path: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def serve(directory: str, idle_timeout: float) -> int:
    """The server's life: warm up, listen, serve; the exit status."""
    from adjutant.cli import build_cmd
    from adjutant.cli.build_run import warm_up
    from adjutant.cli.main import main as adjutant_main
    from adjutant.cli.main import make_parser

    def build(argv: Sequence[str]) -> int:
        """``adjutant`` knowing only ``build``: all a command hands over, and all a
        request (of this user) can make a child run."""
        return adjutant_main(argv, make_parser((build_cmd,)))

    started = time.monotonic()
    own = identity(list(sys.path))
    warm_up()
    gc.collect()
    gc.freeze()  # what warming up made is never rescanned, and stays shared with children
    try:
        server = BuildServer(directory, build, own, idle_timeout)
    except (ServerError, OSError) as exc:
        log(f"cannot start: {exc}")
        return 1
    signal.signal(signal.SIGTERM, _stop_server)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    log(f"pid {os.getpid()} listening on {server.path} ({len(sys.modules)} modules loaded "
        f"in {time.monotonic() - started:.2f} s)")
    try:
        server.serve_forever()
    except SystemExit:
        log("stopped by a signal")
    return 0


def _stop_server(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adjutant.buildserver.server")
    parser.add_argument("--dir", required=True, help="the private socket directory")
    parser.add_argument("--idle-timeout", type=float, default=0.0,
                        help="stop after this many seconds without a build (0: never)")
    args = parser.parse_args(argv)
    # ``-m`` put the directory the server started in first on the path. A command's
    # first entry is its script's directory; the forked build, which imports lazily
    # from wherever it runs, has neither.
    sys.path[:] = import_path()
    return serve(args.dir, args.idle_timeout)


if __name__ == "__main__":
    sys.exit(main())
