"""Soak: many small tasks through one worker, watching for anything that accumulates.

``python -m bench soak [--tasks N] [--every K]``: N tasks (default 200) on the fake hub,
maxjobs 2, real podman; in every 20 (``--every``) tasks: 10 pass, 4 fail (%build exits 1),
3 are cancelled while OPEN (a build that sleeps), 3 time out (the same build, killed by
``rpmbuild_timeout``). After a warm-up task (it fills the buildroot cache) and after each
batch, once the worker has no task process left, it samples:

- RSS: the worker's main process (VmRSS); also the peak RSS seen of its task processes
  during the batch (polled every 0.2 s, so a rough peak);
- fds: open descriptors of the main process (``/proc/<pid>/fd``);
- containers, images: the engine's totals (other users of the engine move these too) and
  the worker's own: containers labelled with its host, task and failed-buildroot images
  named after its host;
- mounts: mount points in ``/proc/self/mountinfo`` (the host's namespace, where the engine
  mounts) under the soak's directory (workdir, topdir: none are expected), plus engine
  mounts (overlay ``merged`` dirs and ``shm`` under the engine's storage) that belong to
  no existing container, i.e. leaked by a removed one;
- temp: task dirs left under ``workdir/tasks/*/*``, other entries of ``workdir`` (koji's
  ``tasks/<id % 10000>`` buckets are not counted, they are kojid's layout), and
  ``/tmp/adjutant-*``.

Target: flat. RSS within 10 MB of the first sample; every other count back to its first
value. The last line is the verdict. Benchmarks print figures, they do not assert.
"""

from __future__ import annotations

import argparse
import glob
import os
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bench.common import bench_hub, children, report, rss_bytes

KINDS = ["pass"] * 10 + ["fail"] * 4 + ["cancel"] * 3 + ["timeout"] * 3
HOST = "soak1"
RSS_SLACK_MB = 10.0
CANCEL_AFTER_OPEN = 1.5  # seconds OPEN before the cancel: the build container is running


@dataclass
class Sample:
    """One row of figures, taken with the worker idle."""

    tasks: int
    rss_mb: float
    task_peak_mb: float
    fds: int
    containers_ours: int
    containers_all: int
    images_ours: int
    images_all: int
    mounts_ours: int
    mounts_orphan: int
    task_dirs: int
    workdir_other: int
    tmp_dirs: int


def _rss_mb(pid: int) -> float:
    return rss_bytes(pid) / (1024 * 1024)


class Probe:
    """Reads the figures of one worker process, its engine and its directories."""

    def __init__(self, pid: int, root: Path, workdir: Path) -> None:
        import podman

        from adjutant.engine import open_runtime
        from adjutant.plugin.manager import load_plugins

        self.pid, self.root, self.workdir = pid, root, workdir
        self.client = podman.PodmanClient(base_url="unix:///run/podman/podman.sock")
        self.runtime = open_runtime(load_plugins(), "podman")
        self.storage = str(self.runtime.storage_path())
        self.task_peak = 0.0

    def close(self) -> None:
        self.client.close()
        self.runtime.close()

    def poll_tasks(self) -> None:
        """Note the RSS of the worker's task processes (call often while tasks run)."""
        for child in children(self.pid):
            self.task_peak = max(self.task_peak, _rss_mb(child))

    def busy(self) -> bool:
        """Whether the worker still has a task process (its only children are tasks)."""
        return bool(children(self.pid))

    def _engine_mounts(self) -> tuple[int, int]:
        """(mount points under the soak's dir, engine mounts of no existing container)."""
        points = [line.split()[4] for line in
                  Path("/proc/self/mountinfo").read_text().splitlines()]
        ours = sum(1 for p in points if p.startswith(str(self.root)))
        engine = {p for p in points if p.startswith(self.storage + "/")
                  and (p.endswith("/merged") or p.endswith("/userdata/shm"))}
        known = set()
        for container in self.client.containers.list(all=True):
            try:
                attrs = container.inspect()
            except Exception:
                continue  # removed in between
            merged = (attrs.get("GraphDriver") or {}).get("Data", {}).get("MergedDir")
            if merged:
                known.add(merged)
            known.add(f"{self.storage}/overlay-containers/{attrs['Id']}/userdata/shm")
        return ours, len(engine - known)

    def sample(self, tasks: int) -> Sample:
        from adjutant.worker.buildroot import TASK_IMAGE_REPO
        from adjutant.worker.failed import FAILED_REPO
        from adjutant.worker.labels import host_selector

        ours_images = sum(1 for repo in (TASK_IMAGE_REPO, FAILED_REPO)
                          for name in self.runtime.image_names(repo)
                          if name.split(":", 1)[-1].startswith(f"{HOST}-"))
        mounts_ours, orphans = self._engine_mounts()
        tasks_dir = self.workdir / "tasks"
        task_dirs = len(glob.glob(f"{tasks_dir}/*/*"))
        other = sum(1 for p in self.workdir.rglob("*")
                    if not (p == tasks_dir or p.parent == tasks_dir
                            or tasks_dir in p.parents))
        sample = Sample(
            tasks=tasks, rss_mb=_rss_mb(self.pid), task_peak_mb=self.task_peak,
            fds=len(os.listdir(f"/proc/{self.pid}/fd")),
            containers_ours=len(self.runtime.list_containers(host_selector(HOST))),
            containers_all=len(self.client.containers.list(all=True)),
            images_ours=ours_images, images_all=len(self.client.images.list()),
            mounts_ours=mounts_ours, mounts_orphan=orphans, task_dirs=task_dirs,
            workdir_other=other,
            tmp_dirs=len(glob.glob(os.path.join(tempfile.gettempdir(), "adjutant-*"))))
        self.task_peak = 0.0
        return sample


def _spec(example: str, name: str, build: str) -> str:
    return (example.replace("Name:           adjutant-hello", f"Name:           {name}")
            .replace("sh ./hello.sh > greeting.txt", build))


def _settle(probe: Probe, timeout: float = 60) -> None:
    """Wait until the worker has no task process, then a little for its main loop."""
    deadline = time.monotonic() + timeout
    while probe.busy() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)


def _run_batch(hub: Any, probe: Probe, kinds: list[str], srpms: dict[str, str],
               tag: dict[str, Any], outcomes: dict[str, dict[str, int]]) -> None:
    """Submit one batch, cancel its cancel tasks once OPEN, wait for every end state."""
    from tests.support.kojisetup import build_arch_task

    pending = {build_arch_task(hub, srpms[kind], tag): kind for kind in kinds}
    opened: dict[int, float] = {}
    while pending:
        probe.poll_tasks()
        for task_id, kind in list(pending.items()):
            state = hub.task(task_id)["state_name"]
            if kind == "cancel" and state == "OPEN":
                opened.setdefault(task_id, time.monotonic())
                if time.monotonic() - opened[task_id] >= CANCEL_AFTER_OPEN:
                    hub.cancel_task(task_id)
                    continue
            if state in ("CLOSED", "FAILED", "CANCELED"):
                outcome = state
                if state == "FAILED":
                    try:
                        hub.task_result(task_id)
                    except Exception as exc:  # the fault, as koji raises it
                        outcome = "FAILED timeout" if "rpmbuild_timeout" in str(exc) \
                            else "FAILED"
                counts = outcomes.setdefault(kind, {})
                counts[outcome] = counts.get(outcome, 0) + 1
                del pending[task_id]
        time.sleep(0.2)


def _verdict(first: Sample, last: Sample) -> list[str]:
    """What is not flat between the first and the last sample (empty: flat)."""
    problems = []
    if last.rss_mb - first.rss_mb > RSS_SLACK_MB:
        problems.append(f"RSS grew {last.rss_mb - first.rss_mb:.1f} MB")
    for name in ("fds", "containers_ours", "images_ours", "mounts_ours", "mounts_orphan",
                 "task_dirs", "workdir_other", "tmp_dirs"):
        if getattr(last, name) != getattr(first, name):
            problems.append(f"{name} {getattr(first, name)} -> {getattr(last, name)}")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench soak")
    parser.add_argument("--tasks", type=int, default=200, help="tasks in all (default 200)")
    parser.add_argument("--every", type=int, default=20, help="sample every K tasks")
    parser.add_argument("--timeout", type=int, default=6,
                        help="rpmbuild_timeout of the worker, seconds (default 6)")
    args = parser.parse_args(argv or [])

    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import load_plugins
    from tests.support.kojirepo import GROUPS, build_package, make_koji_repo, package_spec
    from tests.support.kojisetup import (
        EXAMPLE,
        build_arch_task,
        make_srpm,
        upload_srpm,
        wait_task,
    )
    from tests.support.worker import WorkerProcess, write_config

    example = EXAMPLE.read_text()
    hello = {"hello.sh": (EXAMPLE.parent / "hello.sh").read_text()}
    samples: list[Sample] = []
    outcomes: dict[str, dict[str, int]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp_name, \
            bench_hub(Path(tmp_name) / "topdir") as hub:
        tmp = Path(tmp_name)
        specs = {"pass": example,
                 "fail": _spec(example, "soak-fail", "echo failing on purpose >&2\nexit 1"),
                 "slow": _spec(example, "soak-slow", "sleep 120")}
        srpms = {kind: upload_srpm(hub, make_srpm(text, tmp / kind, hello), f"soak/{kind}")
                 for kind, text in specs.items()}
        srpms["cancel"] = srpms["timeout"] = srpms.pop("slow")
        hub.add_tag("soak-build", arches="x86_64")
        plugins = load_plugins()
        runtime = open_runtime(plugins, "podman")
        buildsys = build_package(runtime, plugins, package_spec("adjutant-buildsys"),
                                 tmp / "buildsys")
        tag = {"name": "soak-build",
               "repo_id": make_koji_repo(hub, runtime, "soak-build", buildsys, GROUPS)}
        hub.add_host(HOST, arches=["x86_64", "noarch"], password="pw")
        workdir = tmp / "work"
        config = write_config(tmp / "kojid.conf", server=hub.url, topurl=hub.topurl,
                              topdir=hub.topdir, workdir=workdir, user=HOST, password="pw",
                              kojid={"maxjobs": 2, "rpmbuild_timeout": args.timeout})
        with WorkerProcess(config, tmp / "worker.log") as worker:
            probe = Probe(worker.pid, tmp, workdir)
            try:
                # Warm-up, not counted: it installs the buildroot the others find cached.
                warm = wait_task(hub, build_arch_task(hub, srpms["pass"], tag), timeout=300)
                if warm["state_name"] != "CLOSED":
                    raise RuntimeError(f"warm-up task ended {warm['state_name']}:\n"
                                       f"{worker.log()[-3000:]}")
                _settle(probe)
                samples.append(probe.sample(0))
                done = 0
                while done < args.tasks:
                    count = min(args.every, args.tasks - done)
                    kinds = [KINDS[(done + i) % len(KINDS)] for i in range(count)]
                    _run_batch(hub, probe, kinds, srpms, tag, outcomes)
                    done += count
                    _settle(probe)
                    samples.append(probe.sample(done))
                    print(f"  {done} tasks, {time.monotonic() - started:.0f} s", flush=True)
            finally:
                probe.close()
        BuildrootCache(tmp / "cache" / "buildroots").prune(runtime, max_images=0)
        runtime.close()

    elapsed = time.monotonic() - started
    names = [f.name for f in fields(Sample)]
    widths = [max(len(n), 7) for n in names]
    print(f"\n== soak: {args.tasks} tasks, maxjobs 2, podman, fake hub ({elapsed:.0f} s)")
    print("  " + "  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True)))
    for s in samples:
        values = [f"{v:.1f}" if isinstance(v, float) else str(v)
                  for v in (getattr(s, n) for n in names)]
        print("  " + "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True)))
    first, last = samples[0], samples[-1]
    report("targets (last sample against the first)", [
        ("rss_mb", f"{last.rss_mb - first.rss_mb:+.1f} MB (target within "
                   f"{RSS_SLACK_MB:.0f} MB)"),
        ("fds, containers_ours, images_ours", "back to the first sample"),
        ("mounts_ours, mounts_orphan", "back to the first sample"),
        ("task_dirs, workdir_other, tmp_dirs", "back to the first sample"),
        ("containers_all, images_all", "the whole engine, shown only (others use it too)"),
    ])
    report("task outcomes by kind", [
        (kind, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for kind, counts in sorted(outcomes.items())])
    problems = _verdict(first, last)
    print(f"\nverdict: {'FLAT' if not problems else 'NOT FLAT: ' + '; '.join(problems)}")


if __name__ == "__main__":
    main()
