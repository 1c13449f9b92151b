"""Log floods through a real build: every byte reaches the hub's copy of build.log, live.

Two builds per engine (podman, docker), each a buildArch on the fake hub whose %build
prints:

1. 200,000 numbered lines, each carrying the time it was printed. Figures: lines that
   reached the hub's build.log ÷ lines printed (target 100 %, in order, none doubled);
   live lag = time from a line being printed in the container to it being readable
   through the hub while the task runs (sampled lines; target median <= 2 s, max <= 5 s);
   worker memory growth during the flood (daemon + task process; PSS sampled every
   0.5 s, summed RSS every 0.05 s; target <= 20 MB); CPU seconds the worker spends per
   million lines.

   The memory figure is PSS, not summed RSS: at its end the task process forks to remove
   its work dir (koji's ``rmtree``), and for the child's few milliseconds summed RSS
   counts the ~35 MB the two share twice. Whether a sample lands in those milliseconds
   made the RSS figure jump between ~1 MB and ~40 MB from run to run. Both are printed.
2. One 20 MB line with no newline, then invalid UTF-8, then a marker: the hub's copy must
   hold exactly those bytes.

``python -m bench logflood --engine docker`` runs one engine only.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import PeakMemory, bench_host, bench_hub, group_tag, report

LINES = 200_000
BIG = 20 * 1024 * 1024
#: The flood's lines: ``flood <n> <epoch seconds>``.
_LINE = re.compile(rb"^flood (\d+) (\d+\.\d+)$", re.MULTILINE)

# One line each (the spec template indents them); %% is rpm's escape for %.
FLOOD_BUILD = (
    "python3 -c 'import sys, time; w = sys.stdout.write; "
    f"[w(\"flood %%d %%.6f\\n\" %% (i, time.time())) for i in range({LINES})]'"
)
#: 20 MB of 'x' with no newline, the bytes 0xff 0xfe 0x80 (not UTF-8), then a marker line.
BIG_BUILD = (
    "python3 -c 'import sys; sys.stdout.buffer.write(b\"<\" + "
    f"b\"x\" * {BIG} + b\"\\xff\\xfe\\x80END-OF-BIG-LINE\\n\")'"
)
BIG_BYTES = b"<" + b"x" * BIG + b"\xff\xfe\x80END-OF-BIG-LINE\n"


def _cpu_seconds(pid: int) -> float:
    """The process's CPU time plus that of its reaped children (its task processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class _Watcher(threading.Thread):
    """Polls the hub's copy of build.log while the task runs, timing new lines' arrival."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.lags: list[float] = []
        self.done = threading.Event()
        self._seen = 0

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    data = response.read()
            except OSError:
                continue
            now = time.time()
            start = data.rfind(b"\n", 0, self._seen) + 1 if self._seen else 0
            for match in _LINE.finditer(data, start):
                number = int(match.group(1))
                if number >= self._sampled_from and number % 997 == 0:
                    self.lags.append(now - float(match.group(2)))
            last = list(_LINE.finditer(data, max(start, len(data) - 200)))
            if last:
                self._sampled_from = int(last[-1].group(1)) + 1
            self._seen = len(data)

    _sampled_from = 0


def _flood_task(hub: Any, tag: dict[str, Any], srpm_rel: str, worker: Any,
                workdir: Path) -> dict[str, Any]:
    import koji

    from tests.support.kojisetup import build_arch_task, wait_task
    from tests.support.worker import wait_for

    task_id = build_arch_task(hub, srpm_rel, tag)
    wait_for(lambda: hub.task(task_id)["state_name"] in ("OPEN", "CLOSED", "FAILED"), 120,
             message="the flood task to open")
    url = f"{hub.topurl}/work/{koji.pathinfo.taskrelpath(task_id)}/build.log"
    watcher = _Watcher(url)
    # The baseline is the worker as the build starts: the task process opens build.log
    # (its file sink creates the file) just before it creates the build's container. Taken
    # earlier, it would count the task process's own start-up as the flood's growth: the
    # whole process (~40 MB) when taken before the fork, or the pages a fresh fork has yet
    # to touch.
    wait_for(lambda: any(workdir.glob(f"tasks/*/{task_id}/logs/build.log")), 120,
             interval=0.01, message="the build to open build.log")
    memory = PeakMemory(worker.pid)
    cpu_before = _cpu_seconds(worker.pid)
    watcher.start()
    memory.start()
    while hub.task(task_id)["state_name"] not in ("CLOSED", "FAILED"):
        time.sleep(0.2)
    memory.stop()
    watcher.done.set()
    watcher.join()
    state = wait_task(hub, task_id)["state_name"]
    if state != "CLOSED":
        try:
            hub.task_result(task_id)
        except Exception as exc:  # the fault is the figure's explanation
            state += f" ({str(exc).splitlines()[0][:300]})"
    time.sleep(1.5)  # the daemon reaps the task process: its CPU time lands in cutime
    cpu = _cpu_seconds(worker.pid) - cpu_before
    log = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/build.log").read_bytes()
    numbers = [int(m.group(1)) for m in _LINE.finditer(log)]
    return {"state": state, "lines": len(numbers), "in_order": numbers == list(range(LINES)),
            "lags": watcher.lags, "pss_growth": memory.pss - memory.pss_start,
            "rss_growth": memory.rss - memory.rss_start, "cpu": cpu,
            "broken": _first_broken(log, numbers)}


def _first_broken(log: bytes, numbers: list[int]) -> str | None:
    """Where the hub's copy first departs from the printed lines: the bytes around the
    first line missing or out of place, for the report (None when every line is there)."""
    wrong = next((i for i, n in enumerate(numbers) if n != i), len(numbers))
    if wrong == LINES:
        return None
    found = log.find(f"flood {wrong - 1} ".encode()) if wrong else 0
    return repr(log[max(found, 0):max(found, 0) + 160])


def _big_task(hub: Any, tag: dict[str, Any], srpm_rel: str) -> bool:
    import koji

    from tests.support.kojisetup import build_arch_task, wait_task

    task_id = build_arch_task(hub, srpm_rel, tag)
    if wait_task(hub, task_id, timeout=600)["state_name"] != "CLOSED":
        return False
    log = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/build.log").read_bytes()
    return BIG_BYTES in log


def _engine(name: str) -> list[tuple[str, str]]:
    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import load_plugins
    from tests.support.kojirepo import package_spec
    from tests.support.kojisetup import make_srpm, upload_srpm
    from tests.support.worker import WorkerProcess

    plugins = load_plugins()
    podman = open_runtime(plugins, "podman")
    runtime = open_runtime(plugins, name)
    with tempfile.TemporaryDirectory() as tmp_name, \
            bench_hub(Path(tmp_name) / "topdir") as hub:
        tmp = Path(tmp_name)
        flood = upload_srpm(hub, make_srpm(package_spec("flood", build_check=FLOOD_BUILD),
                                           tmp / "flood"), "cli-build/1.flood")
        big = upload_srpm(hub, make_srpm(package_spec("bigline", build_check=BIG_BUILD),
                                         tmp / "big"), "cli-build/2.big")
        tag = group_tag(hub, podman, plugins, tmp)
        config = bench_host(hub, tmp, runtime=name, kojid={"sleeptime": 1},
                            adjutant={"hub_log_interval": 1.0})
        with WorkerProcess(config, tmp / "worker.log") as worker:
            result = _flood_task(hub, tag, flood, worker, tmp / "work")
            big_ok = _big_task(hub, tag, big)
        output_warnings = [line for line in (tmp / "worker.log").read_text(
            errors="replace").splitlines() if "WARNING" in line and "output" in line]
        BuildrootCache(tmp / "cache" / "buildroots").prune(runtime, max_images=0)
    runtime.close()
    podman.close()
    lags = result["lags"] or [float("nan")]
    return [
        (f"{name}: task", result["state"]),
        (f"{name}: lines on the hub ÷ printed (target 100 %)",
         f"{100 * result['lines'] / LINES:.2f} % ({result['lines']}/{LINES}; in order, "
         f"none doubled: {result['in_order']})"),
        (f"{name}: live lag, median / max over {len(result['lags'])} sampled lines "
         "(target <= 2 s / <= 5 s)",
         f"{statistics.median(lags):.2f} s / {max(lags):.2f} s"),
        (f"{name}: worker memory growth during the flood, PSS (target <= 20 MB)",
         f"{result['pss_growth'] / 1e6:.1f} MB"),
        (f"{name}: the same as summed RSS (a fork's shared pages counted twice)",
         f"{result['rss_growth'] / 1e6:.1f} MB"),
        (f"{name}: worker CPU per million lines", f"{result['cpu'] * 1e6 / LINES:.2f} s"),
        (f"{name}: 20 MB line, invalid UTF-8, marker: bytes identical on the hub",
         str(big_ok)),
    ] + ([(f"{name}: the hub's copy departs from the printed lines at", result["broken"])]
         if result["broken"] else []) \
      + [(f"{name}: worker warning", line[-200:]) for line in output_warnings[:5]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench logflood")
    parser.add_argument("--engine", action="append", choices=("podman", "docker"),
                        help="run on this engine only (repeatable; default: both)")
    args = parser.parse_args(argv or [])
    rows = []
    for name in args.engine or ["podman", "docker"]:
        rows += _engine(name)
    report(f"log flood ({LINES} lines; then a 20 MB line), buildArch on the fake hub", rows)


if __name__ == "__main__":
    main()
