"""Cache on disk: 20 cached buildroots over the same build group (bench/bigrepo.py), each
with one different BuildRequires, made by the worker against the fake hub (podman).

Figure: the growth of podman's image store (``du`` of its graph root, before the first
task and after the twentieth) ÷ (one buildroot's own size above the base image + the 20
differences), where a difference is a cached buildroot's own layer above the one it was
built on, as ``adjutant cache list`` shows it. Target <= 1.5: layers shared, not 20 full
copies. Also printed: what 20 full copies would take.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.bigrepo import LEAVES, build_rpms, groups, name
from bench.common import ADJUTANT, bench_host, bench_hub, report

BUILDROOTS = 20


def _store_bytes(graph_root: str) -> int:
    out = subprocess.run(["du", "-sb", graph_root], capture_output=True, text=True,
                         check=True).stdout
    return int(out.split()[0])


def _graph_root() -> str:
    from podman import PodmanClient

    with PodmanClient(base_url="unix:///run/podman/podman.sock") as client:
        return str(client.info()["store"]["graphRoot"])


def main() -> None:
    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import load_plugins
    from tests.support.kojirepo import make_koji_repo, package_spec
    from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
    from tests.support.worker import WorkerProcess

    plugins = load_plugins()
    runtime = open_runtime(plugins, "podman")
    graph_root = _graph_root()
    with tempfile.TemporaryDirectory() as tmp_name, \
            bench_hub(Path(tmp_name) / "topdir") as hub:
        tmp = Path(tmp_name)
        rpms = build_rpms(runtime, plugins, tmp)
        srpms = [upload_srpm(hub, make_srpm(package_spec(f"one-{i}",
                                                         build_requires=[name(leaf)]),
                                            tmp / f"srpm-{i}"), subdir=f"cli-build/{i}")
                 for i, leaf in enumerate(list(LEAVES)[:BUILDROOTS])]
        hub.add_tag("bench-build", arches="x86_64")
        tag = {"name": "bench-build",
               "repo_id": make_koji_repo(hub, runtime, "bench-build", rpms, groups())}
        config = bench_host(hub, tmp, adjutant={"buildroot_cache_max_images": BUILDROOTS + 5})
        before = _store_bytes(graph_root)
        with WorkerProcess(config, tmp / "worker.log"):
            for srpm in srpms:
                task_id = build_arch_task(hub, srpm, tag)
                if wait_task(hub, task_id, timeout=900)["state_name"] != "CLOSED":
                    raise RuntimeError(f"task {task_id} failed; see {tmp}/worker.log")
        after = _store_bytes(graph_root)
        listed = subprocess.run([*ADJUTANT, "cache", "list", "--json", "--cache-dir",
                                 str(tmp / "cache")], capture_output=True, text=True,
                                check=True).stdout
        entries: list[dict[str, Any]] = json.loads(listed)
        table = subprocess.run([*ADJUTANT, "cache", "list", "--cache-dir",
                                str(tmp / "cache")], capture_output=True, text=True,
                               check=True).stdout
        BuildrootCache(tmp / "cache" / "buildroots").prune(runtime, max_images=0)
    runtime.close()
    group = next(e for e in entries if not e["requirements"])
    leaves = [e for e in entries if e["requirements"]]
    one = group["own_size"] + leaves[0]["own_size"]
    differences = sum(e["own_size"] for e in leaves)
    ideal = one + differences
    full_copies = sum(e["size"] - e["shared_size"] + group["own_size"] for e in leaves)
    print("\n".join([*table.splitlines()[:4], "  ...", *table.splitlines()[-2:]]))
    report(f"cache on disk: {len(leaves)} cached buildroots differing by one package over "
           "one group of 150 (podman)", [
        ("image store growth (du of the graph root)", f"{(after - before) / 1e6:.1f} MB"),
        ("one buildroot's own size (groups' layer + one leaf)", f"{one / 1e6:.1f} MB"),
        ("the 20 differences (own layers)", f"{differences / 1e6:.2f} MB"),
        ("20 full copies would take", f"{full_copies / 1e6:.1f} MB"),
        ("growth / (one buildroot + 20 differences) (target <= 1.5)",
         f"{(after - before) / ideal:.2f}"),
    ])


if __name__ == "__main__":
    main()
