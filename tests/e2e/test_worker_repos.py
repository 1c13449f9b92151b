"""newRepo and waitrepo through the worker: a tag's repo regenerated from its builds by
createrepo subtasks, then used by a build; a waiting task released by a new repo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, package_spec, register_packages
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]


def test_new_repo_regenerates_the_tag_repo_and_a_build_uses_it(
        hub: FakeHub, repo_packages: dict[str, Path], tmp_path: Path,
        start_worker: StartWorker) -> None:
    hub.add_tag("nr-build", arches="x86_64", groups=dict(GROUPS))
    for _path, _info, _rel, build_id, _rpm in register_packages(
            hub, [repo_packages[k] for k in ("buildsys", "dep-1", "tool")]):
        hub.tag_build("nr-build", build_id)
    task_id = hub.make_task("newRepo", ["nr-build"], channel="createrepo")
    worker = start_worker()
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "CLOSED", worker.log()[-4000:]
    repo_id, _event = hub.task_result(task_id)
    assert hub.repo(repo_id)["state"] == koji.REPO_READY
    kids = {hub.task(c)["label"]: hub.task(c) for c in hub.children(task_id)}
    assert {k: (t["method"], t["state_name"]) for k, t in kids.items()} == \
        {"x86_64": ("createrepo", "CLOSED")}
    assert (hub.repo_path(repo_id) / "x86_64" / "repodata" / "repomd.xml").is_file()

    srpm = make_srpm(package_spec("uses-new-repo", build_requires=["adjutant-tool"]),
                     tmp_path / "srpm")
    build = build_arch_task(hub, upload_srpm(hub, srpm), {"name": "nr-build",
                                                          "repo_id": repo_id})
    assert wait_task(hub, build)["state_name"] == "CLOSED", worker.log()[-4000:]
    listing = hub.buildroot(hub.task_result(build)["brootid"])["listing"]
    assert ("adjutant-tool-1.0-1.noarch", True) in listing


def test_waitrepo_returns_once_a_repo_is_ready(
        hub: FakeHub, start_worker: StartWorker) -> None:
    hub.add_tag("wait-build", arches="x86_64")
    task_id = hub.make_task("waitrepo", ["wait-build"])
    start_worker(adjutant={"repo_wait_interval": 0.5})
    wait_for(lambda: hub.task(task_id)["state_name"] == "OPEN", 30, message="waitrepo open")
    assert hub.task(task_id)["state_name"] == "OPEN"
    repo_id = hub.add_repo("wait-build")
    task: dict[str, Any] = wait_task(hub, task_id, timeout=30)
    assert task["state_name"] == "CLOSED"
    assert hub.task_result(task_id)["id"] == repo_id


def test_waitrepo_reads_newer_than_as_kojid_does(
        hub: FakeHub, start_worker: StartWorker) -> None:
    """``now`` asks for a repo with the tag's every change, not one made after the task:
    a current repo answers at once even when other tags changed since. A timestamp asks
    for the tag's first change after it; with min_event as well, the task fails."""
    before = hub.now() - 1
    hub.add_tag("wait-now", arches="x86_64")
    repo_id = hub.add_repo("wait-now")
    hub.add_tag("elsewhere")  # a later event, of another tag
    now = hub.make_task("waitrepo", ["wait-now", "now"])
    stamp = hub.make_task("waitrepo", ["wait-now", before])
    both = hub.make_task("waitrepo", ["wait-now", "now", None, 1])
    start_worker(adjutant={"repo_wait_interval": 0.5})
    for task_id in (now, stamp):
        assert wait_task(hub, task_id, timeout=60)["state_name"] == "CLOSED"
        assert hub.task_result(task_id)["id"] == repo_id
    assert wait_task(hub, both, timeout=60)["state_name"] == "FAILED"
    with pytest.raises(koji.GenericError, match="newer_than and min_event args conflict"):
        hub.task_result(both)
