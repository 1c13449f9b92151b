"""Buildroot preparation, cold (dnf installs from the tag's repo) against warm (the
buildroot cache hands over the image it kept): measured on the hub as the time from
``newBuildRoot`` (INIT) to BUILDING, which is exactly the preparation and its listing.
Each round uses a fresh repo id, so its first task is cold and its second warm.
Target: warm <= a fifth of cold.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import bench_hub, median, report

ROUNDS = 5


def _preparation(hub: Any, task_id: int) -> float:
    brootid = hub.task_result(task_id)["brootid"]
    times = {t.new: t.ts for t in hub.history.transitions("buildroot", brootid)}
    return float(times["BUILDING"] - times["INIT"])


def main() -> None:
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import load_plugins
    from tests.support.kojirepo import GROUPS, build_package, make_koji_repo, package_spec
    from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
    from tests.support.worker import WorkerProcess, write_config

    plugins = load_plugins()
    runtime = open_runtime(plugins, "podman")
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as tmp_name, \
            bench_hub(Path(tmp_name) / "topdir") as hub:
        tmp = Path(tmp_name)
        rpms = [build_package(runtime, plugins, spec, tmp / name)[0] for name, spec in (
            ("buildsys", package_spec("adjutant-buildsys")),
            ("dep", package_spec("adjutant-dep")),
            ("tool", package_spec("adjutant-tool", requires=["adjutant-dep"])))]
        srpm = make_srpm(package_spec("needs-tool", build_requires=["adjutant-tool"]),
                         tmp / "srpm")
        srpm_rel = upload_srpm(hub, srpm)
        hub.add_tag("bench-build", arches="x86_64")
        hub.add_host("bench1", arches=["x86_64", "noarch"], password="pw")
        config = write_config(tmp / "kojid.conf", server=hub.url, topurl=hub.topurl,
                              topdir=hub.topdir, workdir=tmp / "work", user="bench1",
                              password="pw")
        with WorkerProcess(config, tmp / "worker.log"):
            for _ in range(ROUNDS):
                tag = {"name": "bench-build",
                       "repo_id": make_koji_repo(hub, runtime, "bench-build", rpms, GROUPS)}
                for times in (cold, warm):
                    task_id = build_arch_task(hub, srpm_rel, tag)
                    if wait_task(hub, task_id)["state_name"] != "CLOSED":
                        raise RuntimeError(f"task {task_id} failed; see {tmp}/worker.log")
                    times.append(_preparation(hub, task_id))
        from adjutant.buildroot.cache import BuildrootCache

        BuildrootCache(tmp / "cache" / "buildroots").prune(runtime, max_images=0)
    runtime.close()
    report(f"buildroot preparation, newBuildRoot to BUILDING ({ROUNDS} rounds, podman)", [
        ("cold (dnf: group build + BuildRequires), median", f"{median(cold):.3f} s"),
        ("warm (cache hit, no dnf), median", f"{median(warm):.3f} s"),
        ("warm / cold (target <= 0.20)", f"{median(warm) / median(cold):.3f}"),
    ])


if __name__ == "__main__":
    main()
