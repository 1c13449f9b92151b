"""A container's out-of-memory record, read from its memory cgroup on this machine.

An engine's own ``State.OOMKilled`` is only sure to be set when the kernel killed the
container's first process; a build's OOM kill usually hits a child (rpmbuild's shell, a
compiler) while rpmbuild itself survives and exits 1. The memory cgroup counts every kill:
``oom_kill`` in ``memory.events`` (cgroup v2) or in ``memory.oom_control`` (cgroup v1,
also the memory controller of a hybrid host).

Engines remove a container's cgroup as soon as it exits, so the counter cannot be read
after ``wait``. :class:`OomWatch` keeps it instead: a thread that samples the counter
while the container runs, woken by the kernel's own OOM notification (an eventfd on
``memory.oom_control`` for v1, a change event on ``memory.events`` for v2), so a kill just
before the exit is not missed. It works only where the engine runs on this machine and
shares its pid namespace; elsewhere :func:`find_memory_cgroup` finds nothing and the
engine's own flag is all there is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: How often the counter is sampled when no notification arrives (a backstop only).
SAMPLE_INTERVAL = 0.25
#: After a notification the kill follows within microseconds; re-read this often until
#: the counter moves, for at most ``_NOTIFIED_SAMPLES`` samples.
_NOTIFIED_INTERVAL = 0.01
_NOTIFIED_SAMPLES = 100


@dataclass(frozen=True)
class MemoryCgroup:
    """A memory cgroup directory and its cgroup version (1 or 2)."""

    path: Path
    version: int

    @property
    def counter_file(self) -> Path:
        return self.path / ("memory.events" if self.version == 2 else "memory.oom_control")

    def oom_kills(self) -> int | None:
        """The cgroup's ``oom_kill`` count; None once the cgroup is gone (or unreadable)."""
        try:
            text = self.counter_file.read_text()
        except OSError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0  # a kernel without the counter: nothing to learn from it


def _mounts(proc: Path) -> tuple[dict[str, tuple[str, Path]], tuple[str, Path] | None]:
    """This process's cgroup mounts: v1 ``{controller: (root, mountpoint)}`` and the v2
    ``(root, mountpoint)`` (None when not mounted)."""
    v1: dict[str, tuple[str, Path]] = {}
    v2: tuple[str, Path] | None = None
    try:
        lines = (proc / "self" / "mountinfo").read_text().splitlines()
    except OSError:
        return v1, v2
    for line in lines:
        head, sep, tail = line.partition(" - ")
        fields, after = head.split(), tail.split()
        if not sep or len(fields) < 5 or len(after) < 3:
            continue
        root, mountpoint, fstype = fields[3], Path(fields[4]), after[0]
        if fstype == "cgroup2" and v2 is None:
            v2 = (root, mountpoint)
        elif fstype == "cgroup":
            for option in after[2].split(","):
                v1.setdefault(option, (root, mountpoint))
    return v1, v2


def _join(mount: tuple[str, Path], cgroup_path: str) -> Path | None:
    root, mountpoint = mount
    if root != "/" and not (cgroup_path == root or cgroup_path.startswith(root + "/")):
        return None  # the cgroup lies outside what this mount shows
    relative = cgroup_path[len(root):] if root != "/" else cgroup_path
    return mountpoint / relative.lstrip("/")


def find_memory_cgroup(pid: int, container_id: str,
                       proc: Path = Path("/proc")) -> MemoryCgroup | None:
    """The memory cgroup of process ``pid`` (a container's first process, as its engine
    reports it), or None when it cannot be found here.

    The cgroup's path must contain ``container_id``: a pid from an engine on another
    machine, or in another pid namespace, never leads to some unrelated local process's
    cgroup.
    """
    try:
        entries = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    v1, v2 = _mounts(proc)
    unified = None
    for entry in entries:
        _, controllers, path = entry.split(":", 2)
        if container_id not in path:
            continue
        if "memory" in controllers.split(",") and "memory" in v1:
            found = _join(v1["memory"], path)
            if found is not None and (found / "memory.oom_control").exists():
                return MemoryCgroup(found, 1)
        elif controllers == "" and v2 is not None:
            unified = _join(v2, path)
    if unified is not None and (unified / "memory.events").exists():
        return MemoryCgroup(unified, 2)
    return None


class OomWatch:
    """Keeps the highest ``oom_kill`` count a memory cgroup showed while it existed.

    Sampling runs on a daemon thread from construction until :meth:`close` or until the
    cgroup is removed. Thread-safe.
    """

    def __init__(self, cgroup: MemoryCgroup) -> None:
        self.cgroup = cgroup
        self._kills = cgroup.oom_kills() or 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oom-watch", daemon=True)
        self._thread.start()

    @property
    def kills(self) -> int:
        """OOM kills recorded so far (sampled once more now, if the cgroup still exists)."""
        self._sample()
        with self._lock:
            return self._kills

    def close(self) -> None:
        """Stop sampling (the count stays readable)."""
        self._stop.set()

    def _sample(self) -> bool:
        """Read the counter; False when the cgroup is gone."""
        count = self.cgroup.oom_kills()
        if count is None:
            return False
        with self._lock:
            self._kills = max(self._kills, count)
        return True

    def _notifier(self) -> tuple[int | None, list[int]]:
        """A descriptor that becomes readable (v1) or shows POLLPRI (v2) on an OOM event,
        and every descriptor to close afterwards. (None, []) when the kernel refuses."""
        opened: list[int] = []
        try:
            if self.cgroup.version == 2:
                fd = os.open(self.cgroup.counter_file, os.O_RDONLY | os.O_CLOEXEC)
                opened.append(fd)
                return fd, opened
            event = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            opened.append(event)
            control = os.open(self.cgroup.counter_file, os.O_RDONLY | os.O_CLOEXEC)
            opened.append(control)
            (self.cgroup.path / "cgroup.event_control").write_text(f"{event} {control}")
            return event, opened
        except OSError as exc:
            log.debug("no OOM notification from %s (%s); sampling only", self.cgroup.path, exc)
            for fd in opened:
                os.close(fd)
            return None, []

    def _run(self) -> None:
        fd, opened = self._notifier()
        poller = select.poll()
        if fd is not None:
            poller.register(fd, select.POLLIN if self.cgroup.version == 1 else select.POLLPRI)
        notified = 0
        try:
            while not self._stop.is_set() and self._sample():
                interval = _NOTIFIED_INTERVAL if notified else SAMPLE_INTERVAL
                notified = max(notified - 1, 0)
                if not poller.poll(interval * 1000) or fd is None:
                    continue
                notified = _NOTIFIED_SAMPLES
                if self.cgroup.version == 1:
                    with contextlib.suppress(BlockingIOError):
                        os.eventfd_read(fd)
                else:  # re-arm the change notification by reading the file again
                    os.lseek(fd, 0, os.SEEK_SET)
                    os.read(fd, 4096)
        except OSError:
            pass  # the cgroup went away under us: the count so far stands
        finally:
            for opened_fd in opened:
                os.close(opened_fd)
