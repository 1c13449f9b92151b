"""A build that exceeds ``container_memory`` fails on the hub naming the limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.support.fakehub import FakeHub
from tests.support.kojisetup import EXAMPLE, build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

#: Room for dnf's buildroot install and rpmbuild; far below what %build asks for.
LIMIT = 256 * 1024 * 1024


@pytest.mark.parametrize("runtime", ["podman", "docker"])
def test_a_build_arch_past_container_memory_fails_naming_it(
        runtime: str, request: pytest.FixtureRequest, hub: FakeHub, build_tag: dict[str, Any],
        tmp_path: Path, start_worker: Callable[..., WorkerProcess]) -> None:
    """%build's shell is OOM-killed (rpmbuild itself lives on and prints only "Bad exit
    status"): the fault names the memory limit from the kernel's record."""
    request.getfixturevalue(f"{runtime}_ready")
    hog = make_srpm(
        EXAMPLE.read_text().replace("Name:           adjutant-hello", "Name:           hog")
        .replace("sh ./hello.sh > greeting.txt",
                 "python3 -c 'b = bytearray(1024 * 1024 * 1024)'"),
        tmp_path / "hog", {"hello.sh": "echo hi\n"})
    task_id = build_arch_task(hub, upload_srpm(hub, hog, "cli-build/3.hog"), build_tag)
    worker = start_worker(runtime=runtime, adjutant={"container_memory": LIMIT})
    assert wait_task(hub, task_id)["state_name"] == "FAILED", worker.log()[-3000:]
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(task_id)
    assert f"out of memory: the build exceeded container_memory = {LIMIT}" in str(err.value)
    hub_log = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/build.log").read_text()
    assert "Bad exit status from" in hub_log  # all rpmbuild itself could say
