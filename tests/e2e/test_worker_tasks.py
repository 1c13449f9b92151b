"""The worker against the fake hub: tasks go FREE → OPEN → CLOSED with kojid's results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.support.fakehub import FakeHub
from tests.support.kojisetup import (
    EXAMPLE,
    build_arch_task,
    make_srpm,
    upload_srpm,
    wait_task,
)
from tests.support.worker import WorkerProcess


@pytest.mark.parametrize("runtime", ["podman", "docker"])
def test_build_arch_goes_free_open_closed_with_kojid_result(
        runtime: str, request: pytest.FixtureRequest, hub: FakeHub, build_tag: dict[str, Any],
        hello_srpm: Path, start_worker: Callable[..., WorkerProcess]) -> None:
    request.getfixturevalue(f"{runtime}_ready")
    task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    worker = start_worker(runtime=runtime)
    task = wait_task(hub, task_id)
    assert task["state_name"] == "CLOSED", worker.log()[-3000:]
    assert hub.history.task_states(task_id)[:3] == ["FREE", "ASSIGNED", "OPEN"]
    assert hub.history.task_states(task_id)[-1] == "CLOSED"

    result = hub.task_result(task_id)
    taskdir = koji.pathinfo.taskrelpath(task_id)
    assert set(result) == {"rpms", "srpms", "logs", "brootid"}
    assert result["rpms"] == [f"{taskdir}/adjutant-hello-1.0-1.noarch.rpm"]
    assert result["srpms"] == [f"{taskdir}/adjutant-hello-1.0-1.src.rpm"]
    assert f"{taskdir}/build.log" in result["logs"]
    assert f"{taskdir}/root.log" in result["logs"]
    for path in (*result["rpms"], *result["srpms"], *result["logs"]):
        assert hub.work_path(path).is_file(), path
    assert hub.history.buildroot_states(result["brootid"]) == ["INIT", "BUILDING", "EXPIRED"]
    assert hub.buildroot(result["brootid"])["task_id"] == task_id
    build_log = hub.work_path(f"{taskdir}/build.log").read_text()
    assert "Hello from a koji-adjutant container build." in build_log


def test_failing_spec_fails_with_the_log_tail_and_the_next_task_builds(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        start_worker: Callable[..., WorkerProcess]) -> None:
    broken = make_srpm(
        EXAMPLE.read_text().replace("Name:           adjutant-hello", "Name:           broken")
        .replace("sh ./hello.sh > greeting.txt", "echo 'make: *** [all] Error 2' >&2\nexit 2"),
        tmp_path / "broken", {"hello.sh": "echo hi\n"})
    bad = build_arch_task(hub, upload_srpm(hub, broken, "cli-build/2.bad"), build_tag)
    worker = start_worker()
    assert wait_task(hub, bad)["state_name"] == "FAILED", worker.log()[-3000:]
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(bad)
    assert "%build" in str(err.value)
    assert "make: *** [all] Error 2" in str(err.value)
    # The whole log reached the hub, its error included, although the task failed.
    hub_log = hub.work_path(f"{koji.pathinfo.taskrelpath(bad)}/build.log").read_text()
    assert "Bad exit status from" in hub_log

    good = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    assert wait_task(hub, good)["state_name"] == "CLOSED", worker.log()[-3000:]
