"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).with_name("adjutant")
#: The installed console script (what users run), else the module.
ADJUTANT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "adjutant.cli.main"]


def timed(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> float:
    """Wall time of one command (``env``: variables to set for it); raises if it fails
    (a failed run is no measurement)."""
    full_env = {**os.environ, **env} if env else None
    started = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False,
                          env=full_env)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def report(title: str, rows: Sequence[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def bench_hub(topdir: Path) -> Any:
    """The fake hub a benchmark's worker serves (not yet started: use it as a context).

    A real hub runs on another machine; this one shares the cores with the builds being
    timed. So it skips what only guards its own correctness, the check that read-only
    methods changed nothing (two pickles of its database per read). The tests keep it.
    The scheduler runs on every ``getTasks``, as if its interval had passed.
    """
    from tests.support.fakehub import FakeHub

    return FakeHub(topdir, RunInterval=0, check_reads=False)


def group_tag(hub: Any, runtime: Any, plugins: Any, tmp: Path,
              name: str = "bench-build") -> dict[str, Any]:
    """A build tag whose READY repo holds the build group's one package (built for real)."""
    from tests.support.kojirepo import GROUPS, build_package, make_koji_repo, package_spec

    hub.add_tag(name, arches="x86_64")
    buildsys = build_package(runtime, plugins, package_spec("adjutant-buildsys"),
                             tmp / "buildsys")
    return {"name": name, "repo_id": make_koji_repo(hub, runtime, name, buildsys, GROUPS)}


def bench_host(hub: Any, tmp: Path, capacity: float = 2.0, **config: Any) -> Path:
    """Host ``bench1`` on the hub and its kojid.conf (``config`` as write_config takes)."""
    from tests.support.worker import write_config

    hub.add_host("bench1", arches=["x86_64", "noarch"], password="pw", capacity=capacity)
    return write_config(tmp / "kojid.conf", server=hub.url, topurl=hub.topurl,
                        topdir=hub.topdir, workdir=tmp / "work", user="bench1",
                        password="pw", **config)


def _proc_bytes(path: str, field: str) -> int:
    """The ``field:`` figure (kB) of a /proc file in bytes (0 once the process is gone)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in text.splitlines()
                 if line.startswith(f"{field}:")), 0)


def rss_bytes(pid: int) -> int:
    """The resident set of process ``pid`` in bytes (0 once it is gone)."""
    return _proc_bytes(f"/proc/{pid}/status", "VmRSS")


def children(pid: int) -> list[int]:
    """The direct children of process ``pid``."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def pss_bytes(pid: int) -> int:
    """The proportional set of process ``pid`` in bytes (0 once it is gone): its resident
    pages, each shared page divided among the processes that share it."""
    return _proc_bytes(f"/proc/{pid}/smaps_rollup", "Pss")


def tree_rss(pid: int, measure: Callable[[int], int] = rss_bytes) -> int:
    """Resident bytes of ``pid`` and all its descendants (a worker and its task processes).

    Summed RSS counts a page shared by a parent and its fork once per process: a task
    process forking briefly (koji's ``rmtree`` of the work dir) adds its whole RSS for
    as long as the child lives. ``measure=pss_bytes`` counts each page once.
    """
    return measure(pid) + sum(tree_rss(child, measure) for child in children(pid))


class PeakMemory(threading.Thread):
    """Samples a process tree's summed RSS every ``interval`` seconds and its summed PSS
    every ``pss_every``-th sample; the peaks (bytes) are ``rss`` and ``pss``, the first
    samples ``rss_start`` and ``pss_start``.

    PSS comes from ``smaps_rollup``, which the kernel builds by walking every mapping:
    about 5 ms of CPU per sample of a worker's tree against 0.5 ms for RSS. Sampled 20
    times a second it took a tenth of a core, out of the two the measured containers
    share; the bench's instrument must not slow what it measures. RSS keeps the fine
    interval because a task's short-lived forks show in it for milliseconds; PSS moves
    with what processes keep, which a coarser interval still sees.
    """

    def __init__(self, pid: int, interval: float = 0.05, pss_every: int = 10) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self._done = pid, interval, threading.Event()
        self.pss_every = pss_every
        self.rss_start = self.rss = tree_rss(pid)
        self.pss_start = self.pss = tree_rss(pid, pss_bytes)

    def run(self) -> None:
        samples = 0
        while not self._done.wait(self.interval):
            samples += 1
            self.rss = max(self.rss, tree_rss(self.pid))
            if samples % self.pss_every == 0:
                self.pss = max(self.pss, tree_rss(self.pid, pss_bytes))

    def stop(self) -> PeakMemory:
        self._done.set()
        self.join()
        return self
