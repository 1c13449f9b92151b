"""A finished container's output read from podman's own ``k8s-file`` log, not the API.

podman's logs endpoint sends every line of output as an HTTP chunk of its own, flushed
one by one: a build that printed 200,000 lines costs podman's service about two CPU
seconds to send, and the worker more than one to receive, after the container has
exited (podman's follower stops at exit, so the rest is read again; see
``PodmanRuntime.read_output``). The same bytes are in the log file conmon wrote, which
this reads in large blocks.

The file is podman's, in the CRI logging format conmon writes: one record a line,
``<RFC 3339 time> <stdout|stderr> <F|P> <content>``, where ``P`` marks a partial line
(the content is not followed by a newline in the output) and ``F`` a full one. Nothing
in a container can write this file or replace it (it lives in podman's storage, beside
the container's rootfs, not inside it); its content is the container's output and is
handled as bytes only. A file that does not follow the format raises LogFileError, and
the caller reads the API instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from typing import Any

from adjutant.container import Stream

_BLOCK = 1 << 20
_STREAMS = {b"stdout": Stream.STDOUT, b"stderr": Stream.STDERR}


class LogFileError(Exception):
    """The log file cannot be read as a k8s-file log (then the API is read instead)."""


def k8s_log_path(inspect: Mapping[str, Any]) -> str | None:
    """The ``k8s-file`` log of a container, from its inspect answer (None for another
    log driver, e.g. journald, or when podman names no path)."""
    config = (inspect.get("HostConfig") or {}).get("LogConfig") or {}
    if config.get("Type") != "k8s-file":
        return None
    path = config.get("Path") or inspect.get("LogPath")
    return path if isinstance(path, str) and os.path.isabs(path) else None


def read_k8s_log(path: str) -> Iterator[tuple[Stream, bytes]]:
    """``(stream, bytes)`` of the log at ``path``, in order, consecutive pieces of one
    stream joined. The file is opened without following a link and must be a regular
    file. Raises LogFileError: before anything is yielded for a file that cannot be used,
    at the first bad record for one that breaks the format (what came before it stands).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise LogFileError(f"cannot open {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LogFileError(f"{path} is not a regular file")
    with os.fdopen(fd, "rb") as fh:
        yield from _records(fh)


def _records(fh: Any) -> Iterator[tuple[Stream, bytes]]:
    rest = b""
    while block := fh.read(_BLOCK):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield from _runs(lines)
    if rest:
        raise LogFileError("the log ends inside a record (no newline after the last one)")


def _runs(lines: list[bytes]) -> Iterator[tuple[Stream, bytes]]:
    """The records of ``lines`` as runs of one stream each."""
    run_stream = Stream.STDOUT
    run: list[bytes] = []
    for line in lines:
        fields = line.split(b" ", 3)
        if len(fields) != 4 or fields[2] not in (b"F", b"P") or fields[1] not in _STREAMS:
            raise LogFileError(f"not a k8s-file log record: {line[:80]!r}")
        stream = _STREAMS[fields[1]]
        if stream is not run_stream:
            if run:
                yield run_stream, b"".join(run)
                run.clear()
            run_stream = stream
        run.append(fields[3])
        if fields[2] == b"F":
            run.append(b"\n")
    if run:
        yield run_stream, b"".join(run)
