"""A container's output read and followed in podman's own ``k8s-file`` log, not the API.

Two reasons not to use podman's logs endpoint when the log file is on this host:

- **Correctness.** podman 4's follower (the ``tail`` library it vendors) can read a record
  conmon has half written, send it as a whole line and skip the rest of it (podman issue
  21914). The runner would then count bytes that are not in the output, and a later read
  would start from the wrong place. The parser here only ever takes complete records.
- **Speed.** The endpoint sends each line as its own HTTP chunk, flushed one by one: a
  build printing 200,000 lines keeps podman's service busy for seconds after the
  container has exited. The file is read in large blocks.

The file is podman's, in the CRI logging format conmon writes: one record a line,
``<RFC 3339 time> <stdout|stderr> <F|P> <content>``, where ``P`` marks a partial line (its
content is not followed by a newline in the output) and ``F`` a full one. Nothing in a
container can write this file or replace it: it lives in podman's storage beside the
container's rootfs, not inside it. Its content is the container's output and is handled
as bytes only. It is opened without following a link and must be a regular file.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from adjutant.container import OutputStream, Stream
from adjutant.container.frames import after_delivered

log = logging.getLogger(__name__)

#: Read size: small enough that a block's records, split into lines, stay a few MB.
_BLOCK = 256 * 1024
_STREAMS = {b"stdout": Stream.STDOUT, b"stderr": Stream.STDERR}
#: podman's word for "no size limit": with a limit, conmon truncates the file as it goes.
_UNLIMITED = ("", "0", "0B", "-1")


class LogFileError(Exception):
    """The log file cannot be read as a k8s-file log (then the API is read instead)."""


def k8s_log_path(inspect: Mapping[str, Any]) -> str | None:
    """The ``k8s-file`` log of a container, from its inspect answer. None for another log
    driver (journald), a log with a size limit (conmon truncates it as it grows), or when
    podman names no absolute path."""
    config = (inspect.get("HostConfig") or {}).get("LogConfig") or {}
    if config.get("Type") != "k8s-file" or str(config.get("Size") or "") not in _UNLIMITED:
        return None
    path = config.get("Path") or inspect.get("LogPath")
    return path if isinstance(path, str) and os.path.isabs(path) else None


def open_log(path: str) -> int:
    """A read-only descriptor of the log at ``path``. FileNotFoundError when conmon has
    not created it yet; LogFileError for a link, a file that is not regular, or another
    error."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LogFileError(f"cannot open {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LogFileError(f"{path} is not a regular file")
    return fd


class Records:
    """Turns a k8s-file log, fed in blocks split anywhere, into ``(stream, bytes)`` runs.

    Only complete records (up to their newline) are taken; the start of one still being
    written waits in ``pending`` for the next block.
    """

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, block: bytes) -> list[tuple[Stream, bytes]]:
        """The runs of the records ``block`` completes, consecutive records of one stream
        joined. Raises LogFileError at a record out of format (nothing of ``block`` is
        returned then)."""
        lines = (self.pending + block).split(b"\n") if self.pending else block.split(b"\n")
        self.pending = lines.pop()
        runs: list[tuple[Stream, bytes]] = []
        run_stream = Stream.STDOUT
        run: list[bytes] = []
        for line in lines:
            fields = line.split(b" ", 3)
            if len(fields) != 4 or fields[2] not in (b"F", b"P") or fields[1] not in _STREAMS:
                raise LogFileError(f"not a k8s-file log record: {line[:80]!r}")
            stream = _STREAMS[fields[1]]
            if stream is not run_stream:
                if run:
                    runs.append((run_stream, b"".join(run)))
                    run = []
                run_stream = stream
            run.append(fields[3])
            if fields[2] == b"F":
                run.append(b"\n")
        if run:
            runs.append((run_stream, b"".join(run)))
        return runs


def read_k8s_log(path: str) -> Iterator[tuple[Stream, bytes]]:
    """The whole output in the log at ``path``, in order, as runs of one stream. Raises
    LogFileError before anything is yielded for a file that cannot be used, and at the
    first bad record, or a last record without its newline, for one that breaks the
    format (what came before stands)."""
    try:
        fd = open_log(path)
    except FileNotFoundError:
        raise LogFileError(f"cannot open {path}: no such file") from None
    records = Records()
    try:
        while block := os.read(fd, _BLOCK):
            yield from records.feed(block)
    finally:
        os.close(fd)
    if records.pending:
        raise LogFileError("the log ends inside a record (no newline after the last one)")


def file_then_api(from_file: Iterable[tuple[Stream, bytes]],
                  api: Callable[[], Iterable[tuple[Stream, bytes]]],
                  what: str) -> Iterator[tuple[Stream, bytes]]:
    """``from_file``; if it raises LogFileError, the rest from ``api()`` (the whole
    output again), without what the file already gave."""
    delivered = {Stream.STDOUT: 0, Stream.STDERR: 0}
    try:
        for stream, data in from_file:
            delivered[stream] += len(data)
            yield stream, data
        return
    except LogFileError as exc:
        log.warning("%s failed (%s); reading the output through podman's API", what, exc)
    yield from after_delivered(api(), delivered)


class K8sLogFollow(OutputStream):
    """Follows the log at ``path`` while the container runs.

    At the end of the file it looks again every ``poll`` seconds; it asks ``exited()`` at
    most every ``check`` seconds, and once that is true (conmon has drained the
    container's output into the file and synced it before podman says so), it reads to
    the end once more and stops. ``finish()`` (the runner saw the exit) makes it do that
    at its next end of file without asking. ``close()`` from another thread stops it at
    once.

    A file that cannot be used (not readable by this user, a link, a record out of
    format) is not the build's fault: the output then comes from ``fallback()`` (podman's
    API follower), without what the file already gave.
    """

    def __init__(self, path: str, exited: Callable[[], bool],
                 fallback: Callable[[], OutputStream], poll: float = 0.05,
                 check: float = 1.0) -> None:
        self.path = path
        self._exited = exited
        self._fallback = fallback
        self._poll = poll
        self._check = check
        self._closed = threading.Event()
        self._exit_seen = threading.Event()
        #: Set by ``close`` and ``finish``: cuts the pause at the end of the file short.
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._api: OutputStream | None = None

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            self._wake.set()
            if self._api is not None:
                self._api.close()

    def finish(self) -> bool:
        """True: the file is read to its end and the iteration ends. False once the
        output comes from the API's follower instead, which cannot be hurried."""
        with self._lock:
            if self._api is not None:
                return False
            self._exit_seen.set()
            self._wake.set()
            return True

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        return file_then_api(self._follow(), self._start_api,
                             f"following the log file {self.path}")

    def _start_api(self) -> Iterable[tuple[Stream, bytes]]:
        with self._lock:
            if self._closed.is_set():
                return ()
            self._api = self._fallback()
            return self._api

    def _follow(self) -> Iterator[tuple[Stream, bytes]]:
        fd = self._open()
        if fd is None:
            return
        records = Records()
        idle = 0.0
        try:
            while not self._closed.is_set():
                block = os.read(fd, _BLOCK)
                if block:
                    idle = 0.0
                    yield from records.feed(block)
                    continue
                exited = self._exit_seen.is_set()
                if not exited and idle >= self._check:
                    idle = 0.0
                    exited = self._exited()
                if exited:
                    while block := os.read(fd, _BLOCK):
                        yield from records.feed(block)
                    if records.pending:  # the rest comes from the API, none lost
                        raise LogFileError("the log ends inside a record after the "
                                           "container exited")
                    return
                self._wake.wait(self._poll)
                idle += self._poll
        finally:
            os.close(fd)

    def _open(self) -> int | None:
        """The log, once conmon has created it; None when closed before that."""
        while not self._closed.is_set():
            try:
                return open_log(self.path)
            except FileNotFoundError:
                self._closed.wait(self._poll)
        return None
