"""Live logs: the task's log files uploaded to the hub while the build runs.

kojid tails each log about once a second and uploads what is new with koji's
``incremental_upload`` (offset = bytes already sent, overwrite), so anyone can read the
log on the hub during the build. This does the same from a thread; the files themselves
are written by the ``file`` log sink, so back-pressure never reaches the build.

One difference: a log with a full upload piece waiting goes up at once instead of at its
next second. A log flood then reaches the hub as fast as it is written, and no call is
added: each still carries a full piece, and a log that trickles is still sent once a
second.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from koji.daemon import incremental_upload

log = logging.getLogger(__name__)

#: What ``incremental_upload`` sends in one call: a log with this much waiting is due.
UPLOAD_PIECE = 65536
#: How many times per interval the thread looks for logs with a full piece waiting.
CHECKS_PER_INTERVAL = 4


def _whole(path: Path) -> bool:
    """Whether a log not sent before its final pass goes up as one file (koji's
    ``uploadWrapper``: 1 MiB blocks, then a size check) rather than incrementally: when
    empty (an incremental upload sends nothing, and the hub would not have the log) or
    longer than one piece (written whole after the build, like the SBOM: a call per MiB
    and one check, instead of a call per 64 KiB). A shorter one takes one incremental
    call, not two."""
    size = path.stat().st_size
    return size == 0 or size > UPLOAD_PIECE


class HubLogUploader:
    """Uploads every file named in ``names`` under ``directory`` to ``uploadpath``.

    A log is due ``interval`` seconds after its last upload, or as soon as a full upload
    piece of it waits; ``clock`` is the monotonic clock those times are read from.
    """

    def __init__(self, session: Any, directory: Path, uploadpath: str,
                 interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._session = session
        self._dir = directory
        self._uploadpath = uploadpath
        self._interval = interval
        self._clock = clock
        self._names: list[str] = []
        self._files: dict[str, IO[bytes]] = {}
        self._sent_at: dict[str, float] = {}
        self._stop = threading.Event()
        #: One pass at a time; a pass holds it through its uploads.
        self._lock = threading.Lock()
        #: Guards ``_names`` alone, so that adding a log never waits for a pass's uploads.
        self._names_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="hub-logs", daemon=True)

    def add(self, name: str) -> None:
        """Start uploading log ``name`` (created on the first write if it does not exist)."""
        with self._names_lock:
            if name not in self._names:
                self._names.append(name)

    def start(self) -> HubLogUploader:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._interval / CHECKS_PER_INTERVAL):
            self.upload_new()

    def _due(self, name: str, fh: IO[bytes], now: float) -> bool:
        if now - self._sent_at.get(name, -self._interval) >= self._interval:
            return True
        return os.fstat(fh.fileno()).st_size - fh.tell() >= UPLOAD_PIECE

    def upload_new(self, final: bool = False) -> None:
        """Upload whatever was appended to each due log since its last upload (every
        log on the final pass).

        The final pass raises when an upload fails (the logs would be incomplete). A log
        it finds never sent goes up whole (:func:`_whole`).
        """
        with self._names_lock:
            names = list(self._names)
        with self._lock:
            for name in names:
                fh = self._files.get(name)
                if fh is None:
                    path = self._dir / name
                    if not path.exists():
                        continue
                    fh = self._files[name] = open(path, "rb")  # noqa: SIM115
                now = self._clock()
                if not final and not self._due(name, fh, now):
                    continue
                self._sent_at[name] = now
                start = fh.tell()
                try:
                    if final and start == 0 and _whole(self._dir / name):
                        self._session.uploadWrapper(str(self._dir / name), self._uploadpath,
                                                    name)
                        continue
                    incremental_upload(self._session, name, fh, self._uploadpath, logger=log)
                except Exception:
                    # Re-send from where this pass began (uploads overwrite at their offset):
                    # a live-log hiccup must neither fail the task nor leave a gap.
                    fh.seek(start)
                    if final:
                        raise
                    log.warning("live upload of %s failed; will retry", name, exc_info=True)

    def stop(self) -> None:
        """Stop the thread and upload the rest of every log; raises if that fails."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        try:
            self.upload_new(final=True)
        finally:
            with self._lock:
                for fh in self._files.values():
                    fh.close()
                self._files.clear()

    def __enter__(self) -> HubLogUploader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
