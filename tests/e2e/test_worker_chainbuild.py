"""koji chain-build: levels of SCM builds, each level built against the repo holding the
levels before it. The test plays kojira: it regenerates the build tag's repo (a newRepo
task, run by the worker) once the first level's build is tagged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import koji
import pytest

from tests.e2e.test_worker_scm import serve_git_repo
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, package_spec, register_packages
from tests.support.kojisetup import new_repo, wait_task
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]

# No source command: the specs need nothing beyond the checkout.
ALLOWED = "127.0.0.1*:/kojifiles/scm/*:no:"


def log_of(hub: FakeHub, task_id: int, name: str) -> str:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{name}").read_text()


@pytest.fixture
def chain_target(hub: FakeHub, repo_packages: dict[str, Path]) -> str:
    """chain-target builds in chain-build (which inherits chain-dest, where builds land)."""
    hub.add_tag("chain-dest", arches=None)
    for name in ("chain-lib", "chain-app"):
        hub.add_package("chain-dest", name)
    hub.add_tag("chain-build", arches="x86_64", groups=dict(GROUPS), parents=["chain-dest"])
    for *_rest, build_id, _rpm in register_packages(hub, [repo_packages["buildsys"]]):
        hub.tag_build("chain-build", build_id)
    hub.add_target("chain-target", "chain-build", "chain-dest")
    return "chain-target"


def test_a_chain_of_two_levels_builds_the_second_against_the_first(
        hub: FakeHub, chain_target: str, tmp_path: Path, start_worker: StartWorker) -> None:
    lib = serve_git_repo(hub, tmp_path, "chain-lib",
                         {"chain-lib.spec": package_spec("chain-lib", version="3.1")})
    app = serve_git_repo(hub, tmp_path, "chain-app", {"chain-app.spec": package_spec(
        "chain-app", build_requires=["chain-lib >= 3.1"],
        build_check="cat /usr/share/chain-lib/marker")})
    # A host name of its own: a worker of the same name elsewhere on this machine would
    # remove this one's containers as its own leftovers.
    worker = start_worker(host="chainer1", kojid={"allowed_scms": ALLOWED},
                          adjutant={"scm_network": "host", "repo_wait_interval": 0.5})
    new_repo(hub, "chain-build")
    user = hub.add_user("packager", "pw")
    parent = hub.client("packager", "pw").chainBuild([[lib("main")], [app("main")]],
                                                     chain_target)

    wait_for(lambda: "chain-lib-3.1-1" in hub.tagged("chain-dest")
             or hub.task(parent)["state_name"] == "FAILED", 300,
             message="the first level tagged")
    assert hub.task(parent)["state_name"] == "OPEN", worker.log()[-4000:]
    new_repo(hub, "chain-build")  # kojira's part
    assert wait_task(hub, parent, timeout=300)["state_name"] == "CLOSED", worker.log()[-4000:]

    kids = {hub.task(c)["label"]: hub.task(c) for c in hub.children(parent)}
    assert {label: (t["method"], t["state_name"]) for label, t in kids.items()} == {
        "build 0,0": ("build", "CLOSED"),
        "wait 1": ("waitrepo", "CLOSED"),
        "build 1,0": ("build", "CLOSED"),
    }
    assert kids["build 0,0"]["id"] < kids["wait 1"]["id"] < kids["build 1,0"]["id"]
    assert hub.task(parent)["owner"] == user
    assert hub.tagged("chain-dest") == ["chain-lib-3.1-1", "chain-app-1.0-1"]
    # The second level was built against the first: installed in its buildroot, read by
    # its %build.
    [arch_task] = [c for c in hub.children(kids["build 1,0"]["id"])
                   if hub.task(c)["method"] == "buildArch"]
    assert "3.1-1" in log_of(hub, arch_task, "build.log").splitlines()
    listing = hub.buildroot(hub.task_result(arch_task)["brootid"])["listing"]
    assert ("chain-lib-3.1-1.noarch", True) in listing


def test_a_scratch_chain_is_refused(hub: FakeHub, chain_target: str,
                                    start_worker: StartWorker) -> None:
    hub.add_user("packager", "pw")
    parent = hub.client("packager", "pw").chainBuild(
        [["git+http://127.0.0.1/kojifiles/scm/x.git#main"]], chain_target, {"scratch": True})
    worker = start_worker(host="chainer1")
    assert wait_task(hub, parent, timeout=60)["state_name"] == "FAILED", worker.log()[-3000:]
    with pytest.raises(koji.BuildError, match="--scratch is not allowed with chain-builds"):
        hub.task_result(parent)
    assert hub.children(parent) == []
