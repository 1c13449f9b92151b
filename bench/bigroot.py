"""A realistic buildroot (bench/bigrepo.py: 300 packages, a build group of 150 with a
dependency web, file provides and rich dependencies), prepared through the worker against
the fake hub, measured on the hub from ``newBuildRoot`` (INIT) to BUILDING:

- cold: a new repo id, nothing cached (the groups' layer, then five BuildRequires);
- warm: the same SRPM again (cache hit);
- near miss: an SRPM with one BuildRequires more (starts from the warm buildroot).

Targets: warm <= 0.05 x cold, near miss <= 0.3 x cold, and each repo id's metadata
fetched at most once on the host (counted from dnf's own download lines in root.log).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.bigrepo import LEAVES, build_rpms, groups, name
from bench.common import bench_host, bench_hub, median, report

ROUNDS = 3


def _preparation(hub: Any, task_id: int) -> float:
    brootid = hub.task_result(task_id)["brootid"]
    times = {t.new: t.ts for t in hub.history.transitions("buildroot", brootid)}
    return float(times["BUILDING"] - times["INIT"])


def _metadata_reads(hub: Any, task_id: int) -> tuple[int, int]:
    """(times dnf fetched the repo's metadata, dnf install runs) in the task's root.log."""
    import koji

    from tests.support.kojirepo import metadata_fetches

    log = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/root.log").read_text()
    return metadata_fetches(log), log.count("adjutant: installing group ") \
        + log.count("adjutant: installing build requirements")


def spread(values: list[float]) -> str:
    return f"median {median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}" \
           f"{f', sd {statistics.stdev(values):.2f}' if len(values) > 1 else ''})"


def main() -> None:
    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import load_plugins
    from tests.support.kojirepo import make_koji_repo, package_spec
    from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
    from tests.support.worker import WorkerProcess

    plugins = load_plugins()
    runtime = open_runtime(plugins, "podman")
    cold: list[float] = []
    warm: list[float] = []
    near: list[float] = []
    fetches: list[int] = []
    dnf_runs: list[int] = []
    with tempfile.TemporaryDirectory() as tmp_name, \
            bench_hub(Path(tmp_name) / "topdir") as hub:
        tmp = Path(tmp_name)
        rpms = build_rpms(runtime, plugins, tmp)
        reqs = [name(i) for i in LEAVES][:6]
        srpms = [upload_srpm(hub, make_srpm(package_spec(f"big-{n}", build_requires=r),
                                            tmp / f"srpm-{n}"), subdir=f"cli-build/{n}")
                 for n, r in (("five", reqs[:5]), ("six", reqs))]
        hub.add_tag("bench-build", arches="x86_64")
        config = bench_host(hub, tmp)
        with WorkerProcess(config, tmp / "worker.log"):
            for _ in range(ROUNDS):
                tag = {"name": "bench-build",
                       "repo_id": make_koji_repo(hub, runtime, "bench-build", rpms, groups())}
                reads = runs = 0
                for srpm, times in ((srpms[0], cold), (srpms[0], warm), (srpms[1], near)):
                    task_id = build_arch_task(hub, srpm, tag)
                    if wait_task(hub, task_id, timeout=900)["state_name"] != "CLOSED":
                        raise RuntimeError(f"task {task_id} failed; see {tmp}/worker.log")
                    times.append(_preparation(hub, task_id))
                    task_reads, task_runs = _metadata_reads(hub, task_id)
                    reads += task_reads
                    runs += task_runs
                fetches.append(reads)
                dnf_runs.append(runs)
                installed = len(hub.buildroot(hub.task_result(task_id)["brootid"])["listing"])
        BuildrootCache(tmp / "cache" / "buildroots").prune(runtime, max_images=0)
    runtime.close()
    report(f"realistic buildroot: 300-package repo, group of 150 ({installed} packages "
           f"installed), newBuildRoot to BUILDING ({ROUNDS} rounds, podman)", [
        ("cold (groups' layer + 5 BuildRequires)", spread(cold)),
        ("warm (cache hit)", spread(warm)),
        ("near miss (one BuildRequires more)", spread(near)),
        ("warm / cold (target <= 0.05)", f"{median(warm) / median(cold):.3f}"),
        ("near miss / cold (target <= 0.30)", f"{median(near) / median(cold):.3f}"),
        ("times a repo id's metadata was fetched on this host, over its 3 tasks' "
         f"{max(dnf_runs)} dnf installs (target 1)", f"{max(fetches)}"),
    ])


if __name__ == "__main__":
    main()
