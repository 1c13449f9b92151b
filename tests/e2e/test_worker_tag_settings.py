"""The build tag's rpm.env.* and mock.* settings honoured by a real build (kojid's mock
config, as containers have it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, make_koji_repo, package_spec
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]


def log_of(hub: FakeHub, task_id: int, name: str) -> str:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{name}").read_text()


def tag_with(hub: FakeHub, runtime: ContainerRuntime, packages: dict[str, Path], name: str,
             extra: dict[str, Any]) -> dict[str, Any]:
    hub.add_tag(name, arches="x86_64", extra=extra)
    repo_id = make_koji_repo(hub, runtime, name, [packages["buildsys"]], GROUPS)
    return {"name": name, "repo_id": repo_id}


def test_rpm_env_reaches_the_build_and_mock_settings_are_named(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        tmp_path: Path, start_worker: StartWorker) -> None:
    tag = tag_with(hub, podman_runtime, repo_packages, "env-build", {
        "rpm.env.ACME": 1, "mock.package_manager": "dnf", "mock.yum.module_hotfixes": 1,
        "mock.new_chroot": 1})
    srpm = make_srpm(package_spec("env-test", build_check='echo "ACME is [$ACME]"'),
                     tmp_path / "env")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), tag)
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    # The line echo printed (not the shell's trace of the command, which may interleave
    # with it: stdout and stderr are one log).
    assert re.search(r"(?<!echo )ACME is \[1\]", log_of(hub, task_id, "build.log"))
    root_log = log_of(hub, task_id, "root.log")
    assert "tag setting rpm.env.ACME: in the environment of the buildroot install and the " \
           "build" in root_log
    assert "tag setting mock.package_manager = 'dnf': the buildroot is installed with dnf" \
        in root_log
    assert "tag setting mock.yum.module_hotfixes = 1: module_hotfixes=1 in the buildroot's " \
        "repo file" in root_log
    assert "tag setting mock.new_chroot = 1: not applicable in a container buildroot " \
        "(every build runs in its own container)" in root_log


def test_a_package_manager_the_image_lacks_fails_naming_the_setting(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        tmp_path: Path, start_worker: StartWorker) -> None:
    tag = tag_with(hub, podman_runtime, repo_packages, "yum-build",
                   {"mock.package_manager": "yum"})
    srpm = make_srpm(package_spec("yum-test"), tmp_path / "yum")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), tag)
    start_worker()
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match=r"the build tag asks for yum "
                       r"\(mock.package_manager\) but the image has no yum"):
        hub.task_result(task_id)
