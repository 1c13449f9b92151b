"""The core's lock on one buildroot key, across the worker's task processes.

Two tasks that need the same buildroot (same base image, repo, groups and packages) must
not both install it: the first installs (and a cache keeps it), the second waits and then
finds it ready. The core holds :class:`KeyLock` for the request's key around the
``adjutant_prepare_buildroot`` hook, the install and the ``adjutant_buildroot_ready``
observers, whatever plugin answers the hook; the hook receives the lock, so a plugin
that does its own preparation runs under it (and may enter it again: it is re-entrant).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class KeyLock:
    """An exclusive ``flock`` on ``<directory>/<key>.lock``, re-entrant in one process."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = Path(directory)
        self.key = key
        self._fh: IO[str] | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def __enter__(self) -> KeyLock:
        if self._depth == 0:
            self.directory.mkdir(parents=True, exist_ok=True)
            fh = open(self.directory / f"{self.key}.lock", "a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX)
            except BaseException:
                fh.close()
                raise
            self._fh = fh
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __repr__(self) -> str:
        return f"KeyLock({self.key[:12]}, pid {os.getpid()}, held={self.held})"


def key_lock(cache_dir: str | Path, key: str) -> KeyLock:
    """The lock of buildroot ``key`` for a worker whose ``cache_dir`` is given."""
    return KeyLock(Path(cache_dir) / "locks", key)
