"""The build server process: loads the build path once, then forks a child per build.

Run by ``adjutant build-server start`` as ``python -m adjutant.buildserver.server``, in
a session of its own, its output going to a log file beside the socket. The server
itself never builds and holds no engine connection: a child is a fork of a process that
has only imported code, and opens its own connections as the command would.

The server stops when told (``stop``, SIGTERM), after ``idle_timeout`` seconds with no
request and no build running, or when the code it loaded has changed on disk (a package
installed, upgraded or removed in its environment, or a module edited): it then refuses
the build that found out, which the command runs itself, and exits. Builds still running
when it stops finish on their own.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import gc
import io
import json
import os
import signal
import socket
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from adjutant.buildserver.wire import (
    MAX_REQUEST,
    Lines,
    Request,
    peer_uid,
    private_dir_problem,
    recv_exactly,
    send_line,
    socket_path,
)
from adjutant.cli.console import unwind_on_termination

Main = Callable[[Sequence[str]], int]
#: How long a connected command may take to send its request.
REQUEST_TIMEOUT = 10.0
#: Signals a command may pass on to its build.
PASSED_ON = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT})


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

    ``main`` is ``adjutant``'s command line (:func:`adjutant.cli.main.main`) unless a
    test gives another; it must already be loaded, with what it loads, when the server
    is made: the fingerprint of the code is taken then.
    """

    def __init__(self, directory: str, main: Main, idle_timeout: float = 0.0) -> None:
        self.directory = directory
        self.path = socket_path(directory)
        self.main = main
        self.idle_timeout = idle_timeout
        self.fingerprint = code_fingerprint()
        self.started = time.time()
        self.served = 0
        self.children: dict[int, float] = {}
        self.stopping = False
        self.listener = self._listen()

    def _listen(self) -> socket.socket:
        problem = private_dir_problem(self.directory)
        if problem:
            raise ServerError(f"cannot use {self.directory} for the build server socket: "
                              f"{problem}; remove it or set XDG_RUNTIME_DIR")
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
                if self._reap() or conn is not None:
                    last = time.monotonic()
                if conn is not None:
                    self._handle(conn)
                elif (self.idle_timeout and not self.children
                      and time.monotonic() - last > self.idle_timeout):
                    log(f"idle for {self.idle_timeout:g} s: stopping")
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

    def _handle(self, conn: socket.socket) -> None:
        fds: list[int] = []
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            if peer_uid(conn) != os.getuid():
                log("refused a connection from another user")
                return
            request, fds = self._read(conn)
            if request.kind == "status":
                send_line(conn, "status " + json.dumps(self.status()))
            elif request.kind == "stop":
                log("told to stop")
                send_line(conn, "stopping")
                self.stopping = True
            else:
                self._build(conn, request, fds)
        except (OSError, EOFError, ValueError) as exc:
            log(f"dropped a request: {exc}")
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()

    def _read(self, conn: socket.socket) -> tuple[Request, list[int]]:
        fds = array.array("i")
        head, ancillary, flags, _ = conn.recvmsg(1, socket.CMSG_LEN(3 * fds.itemsize))
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        if not head:
            raise EOFError("the command closed the connection before asking")
        if flags & socket.MSG_CTRUNC:
            raise ValueError("more descriptors than a request carries")
        size = int.from_bytes(head + recv_exactly(conn, 3), "big")
        if size > MAX_REQUEST:
            raise ValueError(f"a request of {size} bytes")
        return Request.decode(recv_exactly(conn, size)), list(fds)

    def status(self) -> dict[str, object]:
        return {"pid": os.getpid(), "socket": self.path, "executable": sys.executable,
                "started": self.started, "served": self.served,
                "running": len(self.children), "idle_timeout": self.idle_timeout}

    def _build(self, conn: socket.socket, request: Request, fds: list[int]) -> None:
        if request.executable != sys.executable:
            send_line(conn, f"refused it serves {sys.executable}, not {request.executable}")
            return
        if len(fds) != 3:
            send_line(conn, "refused a build needs the command's standard input, output "
                            "and error")
            return
        changed = sorted(p for p, m in code_fingerprint().items()
                         if self.fingerprint.get(p) != m)
        if changed:
            send_line(conn, f"refused the installed code changed since it started "
                            f"({changed[0]}); it has stopped: 'adjutant build-server "
                            f"start' starts it again")
            log(f"code changed ({', '.join(changed[:5])}): stopping")
            self.stopping = True
            return
        pid = os.fork()
        if pid == 0:
            run_child(conn, request, fds, self.listener, self.main)
        self.served += 1
        self.children[pid] = time.monotonic()
        log(f"build pid {pid}: adjutant {' '.join(request.argv)} (in {request.cwd})")


def run_child(conn: socket.socket, request: Request, fds: list[int],
              listener: socket.socket, main: Main) -> NoReturn:
    """In the forked child: become the command (its stdio, directory, umask and
    environment), run ``main`` on its arguments, send the status, exit."""
    code = 1
    finished = threading.Event()
    try:
        listener.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        unwind_on_termination()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        _reopen_stdio()
        conn.settimeout(None)
        send_line(conn, f"pid {os.getpid()}")
        threading.Thread(target=_watch, args=(conn, finished), daemon=True).start()
        os.chdir(request.cwd)
        os.umask(request.umask)
        os.environb.clear()
        os.environb.update(request.environment())
        sys.argv = ["adjutant", *request.argv]
        gc.enable()
        code = _call(main, request.argv)
    except BaseException:  # the child reports whatever happened, and exits
        traceback.print_exc()
    finally:
        finished.set()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        with contextlib.suppress(OSError):
            send_line(conn, f"exit {code}")
        os._exit(code)


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
            if signum in PASSED_ON:
                os.kill(os.getpid(), signum)


def _reopen_stdio() -> None:
    """Text streams over the command's descriptors, buffered as Python buffers a
    command's own: standard output by line on a terminal, standard error always."""
    sys.stdin = _text(0, "rb", sys.stdin, line_buffering=False)
    sys.stdout = _text(1, "wb", sys.stdout, line_buffering=os.isatty(1))
    sys.stderr = _text(2, "wb", sys.stderr, line_buffering=True)


def _text(fd: int, mode: str, like: TextIO, line_buffering: bool) -> TextIO:
    """A text stream on ``fd`` with ``like``'s encoding; closing it leaves ``fd`` open."""
    raw = io.open(fd, mode, closefd=False)  # noqa: SIM115, UP020 - sys.std* are never closed
    return io.TextIOWrapper(raw, encoding=like.encoding, errors=like.errors,
                            line_buffering=line_buffering)


def serve(directory: str, idle_timeout: float) -> int:
    """The server's life: warm up, listen, serve; the exit status."""
    from adjutant.cli.build_run import warm_up
    from adjutant.cli.main import main

    started = time.monotonic()
    warm_up()
    gc.collect()
    gc.freeze()  # what warming up made is never rescanned, and stays shared with children
    try:
        server = BuildServer(directory, main, idle_timeout)
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
    # ``-m`` put the directory the server started in first on the path. The command a
    # build stands for has no such entry (its script's directory is first), and the
    # forked build will import lazily from wherever it is: drop it.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    return serve(args.dir, args.idle_timeout)


if __name__ == "__main__":
    sys.exit(main())
