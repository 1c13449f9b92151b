"""Hostile builds against the fake hub: what a build leaves is read without following links."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.support.fakehub import FakeHub
from tests.support.kojisetup import EXAMPLE, build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess


@pytest.mark.parametrize("runtime", ["podman", "docker"])
def test_a_build_leaving_links_to_host_files_fails_and_uploads_nothing_of_them(
        runtime: str, request: pytest.FixtureRequest, hub: FakeHub, build_tag: dict[str, Any],
        tmp_path: Path, start_worker: Callable[..., WorkerProcess]) -> None:
    request.getfixturevalue(f"{runtime}_ready")
    secret_text = f"worker host secret {uuid.uuid4().hex}"
    secret = tmp_path / "host" / "kojid.conf"
    secret.parent.mkdir()
    secret.write_text(secret_text)
    spec = EXAMPLE.read_text().replace(
        "Name:           adjutant-hello", "Name:           hostile").replace(
        "sh ./hello.sh > greeting.txt",
        "sh ./hello.sh > greeting.txt\n"
        f"ln -s {secret} %{{_rpmdir}}/stolen-1.0-1.noarch.rpm\n"
        f"ln -s {secret} %{{_srcrpmdir}}/stolen-1.0-1.src.rpm\n")
    srpm = make_srpm(spec, tmp_path / "hostile", {"hello.sh": "echo hi\n"})
    task_id = build_arch_task(hub, upload_srpm(hub, srpm, "cli-build/3.hostile"), build_tag)
    worker = start_worker(runtime=runtime)
    assert wait_task(hub, task_id)["state_name"] == "FAILED", worker.log()[-3000:]
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(task_id)
    assert "refused, not read" in str(err.value)
    assert "RPMS/stolen-1.0-1.noarch.rpm: a symbolic link" in str(err.value)
    taskdir = hub.work_path(koji.pathinfo.taskrelpath(task_id))
    uploaded = sorted(p.name for p in taskdir.iterdir())
    assert not [n for n in uploaded if n.endswith(".rpm")], uploaded
    root_log = (taskdir / "root.log").read_text()
    assert "refused RPMS/stolen-1.0-1.noarch.rpm: a symbolic link" in root_log
    for path in taskdir.rglob("*"):
        assert secret_text.encode() not in path.read_bytes(), path
    assert secret_text not in str(err.value)
    # The worker goes on serving.
    assert worker.proc is not None and worker.proc.poll() is None
