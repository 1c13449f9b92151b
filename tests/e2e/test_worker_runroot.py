"""The runroot plugin: a command in a buildroot container with exactly the mounts the
runroot config and the task ask for, its output uploaded as kojid's plugin does."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.e2e.conftest import HOST_PASSWORD
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import wait_task
from tests.support.worker import WorkerProcess


def _runroot_conf(path: Path, ro_tree: Path, compose: Path) -> Path:
    path.write_text(f"""\
[paths]
default_mounts = {ro_tree}
safe_roots = {compose}

[path0]
mountpoint = {ro_tree}
path = {ro_tree}
fstype = bind
options = ro,bind

[path1]
mountpoint = {compose}
path = {compose}
fstype = bind
options = rw,bind
""")
    return path


def _mounts(mountinfo: str) -> dict[str, str]:
    """Mount point → ``ro``/``rw`` from /proc/self/mountinfo lines."""
    found = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[0].isdigit():
            found[fields[4]] = fields[5].split(",")[0]
    return found


def test_runroot_writes_a_file_through_the_mounts_asked_for(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: Callable[..., WorkerProcess]) -> None:
    ro_tree, compose = tmp_path / "mnt" / "ro", tmp_path / "mnt" / "compose"
    (compose / "out").mkdir(parents=True)
    ro_tree.mkdir()
    (ro_tree / "input.txt").write_text("from the read-only tree\n")
    conf = _runroot_conf(tmp_path / "runroot.conf", ro_tree, compose)
    hub.add_host("builder1", arches=["x86_64", "noarch"], password=HOST_PASSWORD,
                 channels=["default", "createrepo", "runroot"])
    hub.add_user("pungi", "pw", perms=["runroot"])
    command = (f"cat {ro_tree}/input.txt > {compose}/out/result.txt && "
               f"echo written >> {compose}/out/result.txt && "
               f"! touch {ro_tree}/nope 2>/dev/null && cat /proc/self/mountinfo")
    task_id = hub.client("pungi", "pw").runroot(
        "f-build", "x86_64", command, packages=["adjutant-tool"],
        mounts=[str(compose / "out")], upload_logs=[f"{compose}/out/result.txt"])

    worker = start_worker(add_host=False, adjutant={"runroot_config": str(conf)})
    task = wait_task(hub, task_id)
    assert task["state_name"] == "CLOSED", worker.log()[-3000:]
    assert hub.task_result(task_id) == "cat completed successfully"

    taskdir = hub.work_path(koji.pathinfo.taskrelpath(task_id))
    assert (taskdir / "result.txt").read_text() == "from the read-only tree\nwritten\n"
    assert (compose / "out" / "result.txt").stat().st_uid == os.geteuid()
    mounts = _mounts((taskdir / "runroot.log").read_text())
    ours = {point: mode for point, mode in mounts.items()
            if point.startswith(str(tmp_path)) or point.startswith(str(hub.topdir))}
    assert ours == {str(ro_tree): "ro", str(compose / "out"): "rw"}
    assert mounts["/builddir"] == "rw"

    brootid, = hub.buildroots(task_id)
    listing = [nvra for nvra, _update in hub.buildroot(brootid)["listing"]]
    assert "adjutant-tool-1.0-1.noarch" in listing
    assert hub.buildroot(brootid)["state"] == koji.BR_STATES["EXPIRED"]


def test_runroot_refuses_a_mount_outside_the_safe_roots(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: Callable[..., WorkerProcess]) -> None:
    ro_tree, compose = tmp_path / "mnt" / "ro", tmp_path / "mnt" / "compose"
    ro_tree.mkdir(parents=True)
    compose.mkdir()
    conf = _runroot_conf(tmp_path / "runroot.conf", ro_tree, compose)
    task_id = hub.make_task("runroot", ["f-build", "x86_64", "true",
                                        {"mounts": [str(ro_tree)], "__starstar": True}],
                            arch="x86_64")
    start_worker(adjutant={"runroot_config": str(conf)})
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    assert not hub.buildroots(task_id)
    with pytest.raises(koji.GenericError, match="read-write mount point is not safe"):
        hub.task_result(task_id)
