"""The worker's own cost: overhead per buildArch task, and an idle worker's CPU and memory.

Overhead per task = (closeTask - openTask, as the fake hub recorded them) - (the build
container's run time, from the engine's own start and died events). Tasks run one after
another so that they do not compete for the 2 cores; the tag's repo is real and the
buildroot comes from the cache after a first, uncounted task. Targets: overhead <= 1 s per task;
idle CPU <= 0.5 %; resident memory <= 100 MB.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_host, bench_hub, group_tag, median, report, rss_bytes

TASKS = 10
IDLE_SECONDS = 60


def _process_stats(pid: int) -> tuple[float, int]:
    """(user + system CPU seconds, resident set in bytes) of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return cpu, rss_bytes(pid)


def _container_runtimes(since: float, until: float) -> dict[int, float]:
    """Seconds between start and died per task id, from podman's event stream."""
    import podman

    client = podman.PodmanClient(base_url="unix:///run/podman/podman.sock")
    started: dict[str, tuple[int, float]] = {}
    runs: dict[int, float] = {}
    for event in client.events(since=int(since) - 1, until=int(until) + 1, decode=True,
                               filters={"type": "container"}):
        attrs = event.get("Actor", {}).get("Attributes", {})
        if "io.koji-adjutant.task" not in attrs:
            continue
        when = event.get("timeNano", 0) / 1e9
        if event.get("Action") == "start":
            started[event["Actor"]["ID"]] = (int(attrs["io.koji-adjutant.task"]), when)
        elif event.get("Action") == "died" and event["Actor"]["ID"] in started:
            task_id, began = started[event["Actor"]["ID"]]
            runs[task_id] = runs.get(task_id, 0.0) + when - began
    client.close()
    return runs


def _opened_closed(hub: Any, task_id: int) -> tuple[float, float]:
    times = {t.new: t.ts for t in hub.history.transitions("task", task_id)}
    return times["OPEN"], times["CLOSED"]


def main() -> None:
    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import load_plugins
    from tests.support.kojisetup import (
        EXAMPLE,
        build_arch_task,
        make_srpm,
        upload_srpm,
        wait_task,
    )
    from tests.support.worker import WorkerProcess, write_config

    with tempfile.TemporaryDirectory() as tmp_name, \
            bench_hub(Path(tmp_name) / "topdir") as hub:
        tmp = Path(tmp_name)
        srpm = make_srpm(EXAMPLE.read_text(), tmp / "srpm",
                         {"hello.sh": (EXAMPLE.parent / "hello.sh").read_text()})
        srpm_rel = upload_srpm(hub, srpm)
        plugins = load_plugins()
        runtime = open_runtime(plugins, "podman")
        tag = group_tag(hub, runtime, plugins, tmp)
        config = bench_host(hub, tmp, kojid={"sleeptime": 1})
        overheads = []
        with WorkerProcess(config, tmp / "worker.log"):
            # Warm-up, not counted: it installs the buildroot, which the others find cached.
            wait_task(hub, build_arch_task(hub, srpm_rel, tag))
            began = time.time()
            task_ids = []
            for _ in range(TASKS):
                task_id = build_arch_task(hub, srpm_rel, tag)
                task = wait_task(hub, task_id)
                if task["state_name"] != "CLOSED":
                    raise RuntimeError(f"task {task_id} ended {task['state_name']}")
                task_ids.append(task_id)
            runs = _container_runtimes(began, time.time())
            for task_id in task_ids:
                opened, closed = _opened_closed(hub, task_id)
                overheads.append((closed - opened) - runs[task_id])
        container = median([runs[t] for t in task_ids])
        BuildrootCache(tmp / "cache" / "buildroots").prune(runtime, max_images=0)
        runtime.close()

        idle_config = write_config(tmp / "idle.conf", server=hub.url, topurl=hub.topurl,
                                   topdir=hub.topdir, workdir=tmp / "work-idle",
                                   user="bench1", password="pw", kojid={"sleeptime": 15})
        with WorkerProcess(idle_config, tmp / "idle.log") as idle:
            time.sleep(5)
            cpu0, _ = _process_stats(idle.pid)
            t0 = time.monotonic()
            peak = 0
            while time.monotonic() - t0 < IDLE_SECONDS:
                time.sleep(1)
                peak = max(peak, _process_stats(idle.pid)[1])
            cpu1, rss = _process_stats(idle.pid)
            elapsed = time.monotonic() - t0

    report(f"worker overhead per buildArch task ({TASKS} tasks, podman, fake hub)", [
        ("openTask→closeTask minus container run, median", f"{median(overheads):.3f} s"),
        ("… mean", f"{sum(overheads) / len(overheads):.3f} s"),
        ("… max", f"{max(overheads):.3f} s"),
        ("container run time (start to died), median", f"{container:.3f} s"),
        ("target", "<= 1 s per task"),
    ])
    report(f"idle worker over {IDLE_SECONDS} s (sleeptime 15, kojid's default)", [
        ("CPU", f"{100 * (cpu1 - cpu0) / elapsed:.2f} % of one core (target <= 0.5 %)"),
        ("resident memory", f"{rss / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB (target <= 100 MB)"),
    ])


if __name__ == "__main__":
    main()
