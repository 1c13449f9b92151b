"""Start, stop and ask after this user's build server (``adjutant build-server``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adjutant.buildserver.client import connect
from adjutant.buildserver.wire import Lines, private_dir_problem, request_for, runtime_dir

#: How long a starting server may take to load and listen, and a stopping one to go.
START_TIMEOUT = 60.0
#: How long a server waits for a build before it stops, unless told otherwise.
DEFAULT_IDLE_TIMEOUT = 3600.0
#: A log past this size is moved aside (one old log kept) when a server starts.
LOG_LIMIT = 1 << 20


class ControlError(Exception):
    """The server could not be started or reached; the message says why."""


def _ask(kind: str, directory: str) -> str | None:
    sock = connect(directory)
    if sock is None:
        return None
    try:
        sock.sendall(request_for(kind).encode())
        return Lines(sock).next()
    except OSError:
        return None
    finally:
        sock.close()


def status(directory: str | None = None) -> dict[str, Any] | None:
    """The running server's figures (pid, socket, builds served and running, whether
    the code it loaded has changed since...), or ``None`` when none answers."""
    line = _ask("status", directory or runtime_dir())
    if line is None or not line.startswith("status "):
        return None
    answer: dict[str, Any] = json.loads(line[7:])
    return answer


def stop(directory: str | None = None) -> bool:
    """Tell the server to stop (its running builds finish); whether one was running."""
    return _ask("stop", directory or runtime_dir()) == "stopping"


def log_path(directory: str | None = None) -> Path:
    """The servers' log (of this user and runtime directory)."""
    return Path(directory or runtime_dir()) / "build-server.log"


def start(idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
          directory: str | None = None) -> dict[str, Any]:
    """Start a server for this interpreter unless an up-to-date one runs (one whose
    code has changed since it loaded is stopped and replaced); its status once it
    listens.

    Makes the private socket directory when missing. ``ControlError`` when the
    directory is not private or the server does not come up (with its log's end).
    """
    directory = directory or runtime_dir()
    running = status(directory)
    if running is not None and not running.get("stale"):
        return running
    if running is not None:
        _replace(directory, running)
    process = _spawn(idle_timeout, directory)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        answer = status(directory)
        if answer is not None:
            return answer
        if process.poll() is not None:
            break
        time.sleep(0.05)
    else:
        process.kill()
    log = log_path(directory)
    tail = log.read_text(errors="replace").splitlines()[-5:]
    raise ControlError("the build server did not start; the end of its log "
                       f"({log}):\n" + "\n".join(tail))


def start_in_background(idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                        directory: str | None = None) -> None:
    """Have a server start, without waiting for it to listen: what a build that found
    none does, so that the next one is served. ``ControlError`` when the socket directory
    is not usable or the process cannot be started. Two of these at once start one
    server: the second finds the first's socket locked and exits."""
    try:
        _spawn(idle_timeout, directory or runtime_dir())
    except OSError as exc:
        raise ControlError(f"cannot start {sys.executable}: {exc}") from exc


def _spawn(idle_timeout: float, directory: str) -> subprocess.Popen[bytes]:
    """The server process, started apart from this one's session and terminal (its
    output goes to its log), after making sure its socket directory is private."""
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ControlError(f"cannot make {directory} ({exc.strerror}): set XDG_RUNTIME_DIR "
                           "to a directory of yours that others cannot enter") from exc
    problem = private_dir_problem(directory)
    if problem:
        raise ControlError(f"cannot keep the build server's socket in {directory}: "
                           f"{problem}; remove it, or set XDG_RUNTIME_DIR to a private "
                           "directory")
    out = _open_log(log_path(directory))
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "adjutant.buildserver.server", "--dir", directory,
             "--idle-timeout", str(idle_timeout)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
            cwd="/")
    finally:
        os.close(out)


def _replace(directory: str, running: dict[str, Any]) -> None:
    """Stop a stale server and wait until it no longer answers."""
    stop(directory)
    deadline = time.monotonic() + START_TIMEOUT
    while status(directory) is not None:
        if time.monotonic() > deadline:
            raise ControlError(f"the build server (pid {running['pid']}) runs code that has "
                               "changed since it started and does not stop: kill it")
        time.sleep(0.05)


def _open_log(log: Path) -> int:
    """The log, for appending (never through a link); a large one is moved aside."""
    try:
        if log.lstat().st_size > LOG_LIMIT:
            log.replace(log.with_suffix(".log.1"))
    except FileNotFoundError:
        pass
    return os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                   0o600)
