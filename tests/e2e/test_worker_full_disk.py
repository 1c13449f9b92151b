"""A build that fills ``workdir``'s file system (a small loop-mounted ext4 made here).

The task fails saying "no space left on device" with the figures; its files go, nothing of
it is kept although ``failed_buildroot_lifetime`` asks; while ``workdir`` is below
``minspace`` the hub sees the host not ready and it takes nothing; once space is back it
is ready again and builds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.worker import failed
from adjutant.worker.diskspace import free_mb
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import (
    EXAMPLE,
    build_arch_task,
    make_srpm,
    upload_srpm,
    wait_task,
)
from tests.support.worker import WorkerProcess, wait_for

FS_MB = 64

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mkfs.ext4") is None,
    reason="needs root and mkfs.ext4 to loop-mount a small file system")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A fresh ext4 of ``FS_MB`` MB mounted on ``tmp_path/small``; unmounted afterwards,
    whatever happened (lazily if something still holds it)."""
    image, mountpoint = tmp_path / "small.img", tmp_path / "small"
    subprocess.run(["truncate", "-s", f"{FS_MB}M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    mountpoint.mkdir()
    subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(path: Path, leave_mb: int) -> None:
    """Allocate ``path`` so that ``leave_mb`` MB stay free for unprivileged writers."""
    free = free_mb(path.parent)
    assert free is not None and free > leave_mb
    with open(path, "wb") as filler:
        os.posix_fallocate(filler.fileno(), 0, (free - leave_mb) * 1024 * 1024)


def test_a_build_that_fills_workdir_fails_is_removed_and_the_host_waits_for_space(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        small_fs: Path, podman_runtime: ContainerRuntime,
        start_worker: Callable[..., WorkerProcess]) -> None:
    filling = make_srpm(
        EXAMPLE.read_text().replace("Name:           adjutant-hello", "Name:           filler")
        .replace("sh ./hello.sh > greeting.txt", "dd if=/dev/zero of=big bs=1M"),
        tmp_path / "filling", {"hello.sh": "echo hi\n"})
    workdir = small_fs / "work"
    workdir.mkdir()
    free_at_start = free_mb(workdir)
    assert free_at_start is not None
    # A quarter of what the empty file system offers: only this file system can trip it
    # (the engine's storage, also checked, has far more than a few MB free).
    minspace = free_at_start // 4
    worker = start_worker(kojid={"workdir": workdir, "minspace": minspace,
                                 "failed_buildroot_lifetime": 3600})
    full = build_arch_task(hub, upload_srpm(hub, filling, "cli-build/3.full"), build_tag)
    try:
        assert wait_task(hub, full, timeout=300)["state_name"] == "FAILED", worker.log()[-3000:]
        with pytest.raises(koji.BuildError) as err:
            hub.task_result(full)
        message = str(err.value)
        assert "no space left on device" in message, message
        assert f"{workdir}: " in message and f"minspace {minspace} MB" in message, message
        # koji's handler removed the task's work dir before failing it, and nothing was
        # kept for inspection: the space is back.
        assert not list(workdir.glob(f"tasks/*/{full}")), list(workdir.rglob("*"))
        assert not (failed.failed_root(workdir) / str(full)).exists()
        assert (free_mb(workdir) or 0) >= free_at_start - 2, (free_at_start, free_mb(workdir))
        root_log = hub.work_path(f"{koji.pathinfo.taskrelpath(full)}/root.log").read_text()
        assert "failed buildroot not kept" in root_log, root_log[-2000:]

        host_id = hub.task(full)["host_id"]
        wait_for(lambda: hub.host(host_id)["ready"], 30, message="the host ready again")
        # Something else holds the space now: below minspace the host is not ready, and
        # a task waits for it.
        _fill(small_fs / "filler", leave_mb=minspace // 2)
        wait_for(lambda: not hub.host(host_id)["ready"], 30,
                 message="the host to report itself not ready")
        waiting = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
        time.sleep(4)  # several of the worker's 1 s polls
        assert hub.task(waiting)["state_name"] == "FREE"
        assert not hub.host(host_id)["ready"]
        assert f"Insufficient disk space at {workdir}" in worker.log()

        (small_fs / "filler").unlink()
        wait_for(lambda: hub.host(host_id)["ready"], 30, message="the host ready again")
        assert wait_task(hub, waiting)["state_name"] == "CLOSED", worker.log()[-3000:]
    finally:
        worker.stop()  # before the file system goes away under it
        for name in podman_runtime.image_names(failed.FAILED_REPO):
            with contextlib.suppress(Exception):
                podman_runtime.remove_image(name, force=False)
