"""saveFailedTree: the failed build's buildroot, kept by failed_buildroot_lifetime, is
archived in a container of its own image and uploaded, as kojid's plugin does."""

from __future__ import annotations

import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.worker import failed
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import package_spec
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]


def test_save_failed_tree_uploads_the_kept_build_dir_and_refuses_host_files(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker, podman_runtime: ContainerRuntime) -> None:
    secret_text = f"host secret {uuid.uuid4().hex}"
    secret = tmp_path / "host" / "kojid.conf"
    secret.parent.mkdir()
    secret.write_text(secret_text)
    # The failing build leaves a file and a link to a host file in its build dir.
    srpm = make_srpm(package_spec("left", build_check=(
        f"echo evidence > left-behind; ln -s {secret} host-link; exit 1")), tmp_path / "l")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), build_tag)
    worker = start_worker("saver1", kojid={"failed_buildroot_lifetime": 3600})
    workdir = worker.config.parent / "work"
    try:
        assert wait_task(hub, task_id)["state_name"] == "FAILED", worker.log()[-3000:]
        [brootid] = [b["id"] for b in hub.client().listBuildroots(taskID=task_id)]
        save = hub.make_task("saveFailedTree", [brootid, False],
                             assign=hub.buildroot(brootid)["host_id"])
        assert wait_task(hub, save)["state_name"] == "CLOSED", worker.log()[-3000:]
        taskdir = hub.work_path(koji.pathinfo.taskrelpath(save))
        archive = taskdir / f"broot-{brootid}.tar.gz"
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            [left] = [n for n in names if n.endswith("/left-behind")]
            assert tar.extractfile(left).read() == b"evidence\n"  # type: ignore[union-attr]
            [link] = [m for m in tar.getmembers() if m.name.endswith("/host-link")]
            assert link.issym() and link.linkname == str(secret)  # kept as a link
        assert all(n == "builddir" or n.startswith("builddir/") for n in names)
        for path in taskdir.rglob("*"):
            assert secret_text.encode() not in path.read_bytes(), path
    finally:
        [kept] = failed.kept_buildroots(workdir)
        failed.expire(podman_runtime, workdir, now=kept.expires + 1)


def test_save_failed_tree_of_a_buildroot_not_kept_says_why(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker) -> None:
    srpm = make_srpm(package_spec("notkept", build_check="exit 1"), tmp_path / "n")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), build_tag)
    worker = start_worker("saver2")  # the tests' default: failed_buildroot_lifetime 0
    assert wait_task(hub, task_id)["state_name"] == "FAILED", worker.log()[-3000:]
    [brootid] = [b["id"] for b in hub.client().listBuildroots(taskID=task_id)]
    save = hub.make_task("saveFailedTree", [brootid, False],
                         assign=hub.buildroot(brootid)["host_id"])
    assert wait_task(hub, save)["state_name"] == "FAILED"
    with pytest.raises(koji.GenericError, match="is not kept on this host"):
        hub.task_result(save)
