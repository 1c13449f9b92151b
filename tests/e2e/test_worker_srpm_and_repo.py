"""rebuildSRPM and createrepo through the worker, with kojid's result shapes."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, make_external_repo, make_koji_repo, package_spec
from tests.support.kojisetup import EXAMPLE, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]


@pytest.fixture(scope="session")
def hello_rpm(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hello-rpm")
    proc = adjutant("build", EXAMPLE, "-o", out, "--runtime", "podman")
    assert proc.returncode == 0, proc.stderr
    return out / "adjutant-hello-1.0-1.noarch.rpm"


def test_rebuild_srpm_closes_with_kojid_result(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, start_worker: StartWorker) \
        -> None:
    srpm_rel = upload_srpm(hub, hello_srpm)
    task_id = hub.make_task("rebuildSRPM", [srpm_rel, build_tag["name"],
                                            {"repo_id": build_tag["repo_id"], "scratch": True}])
    worker = start_worker()
    task = wait_task(hub, task_id)
    assert task["state_name"] == "CLOSED", worker.log()[-3000:]
    result = hub.task_result(task_id)
    taskdir = koji.pathinfo.taskrelpath(task_id)
    assert set(result) == {"srpm", "logs", "brootid", "source"}
    assert result["srpm"] == f"{taskdir}/adjutant-hello-1.0-1.src.rpm"
    assert result["source"] == {"source": hello_srpm.name, "url": hello_srpm.name}
    assert hub.work_path(result["srpm"]).is_file()
    assert f"{taskdir}/build.log" in result["logs"]
    assert hub.history.buildroot_states(result["brootid"]) == ["INIT", "BUILDING", "EXPIRED"]


def test_rebuild_srpm_reports_the_rebuilt_srpm_as_the_source(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        tmp_path: Path, start_worker: StartWorker) -> None:
    """The tag's dist renames the SRPM; as kojid, the source is the rebuilt one's name
    (what the build record will show), not the uploaded one's."""
    hub.add_tag("dist-build", arches="x86_64", extra={"rpm.macro.dist": ".el9"})
    repo_id = make_koji_repo(hub, podman_runtime, "dist-build", [repo_packages["buildsys"]],
                             GROUPS)
    uploaded = make_srpm(package_spec("disted", release="1%{?dist}"), tmp_path / "disted")
    assert uploaded.name == "disted-1.0-1.src.rpm"
    task_id = hub.make_task("rebuildSRPM", [upload_srpm(hub, uploaded), "dist-build",
                                            {"repo_id": repo_id, "scratch": True}])
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    result = hub.task_result(task_id)
    assert result["srpm"].endswith("/disted-1.0-1.el9.src.rpm")
    assert result["source"] == {"source": "disted-1.0-1.el9.src.rpm",
                                "url": "disted-1.0-1.el9.src.rpm"}


def _koji_repo(hub: FakeHub, tag: str, rpm: Path) -> int:
    """An INIT repo laid out as the hub's repoInit writes it, holding ``rpm``."""
    repo_id = hub.add_repo(tag, state=koji.REPO_STATES["INIT"], arches=["x86_64"])
    repodir = hub.repo_path(repo_id)
    pkgdir = hub.topdir / "packages" / "adjutant-hello" / "1.0" / "1" / "noarch"
    pkgdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(rpm, pkgdir / rpm.name)
    arch_dir = repodir / "x86_64"
    os.symlink(hub.topdir, arch_dir / "toplink")
    (arch_dir / "pkglist").write_text(f"toplink/packages/adjutant-hello/1.0/1/noarch/{rpm.name}\n")
    (repodir / "groups").mkdir()
    (repodir / "groups" / "comps.xml").write_text(
        '<?xml version="1.0"?>\n<comps><group><id>build</id><name>build</name>'
        '<packagelist><packagereq>adjutant-hello</packagereq></packagelist></group></comps>\n')
    return repo_id


def test_createrepo_closes_with_the_repodata_uploaded(
        hub: FakeHub, hello_rpm: Path, start_worker: StartWorker) -> None:
    hub.add_tag("repo-tag", arches="x86_64")
    repo_id = _koji_repo(hub, "repo-tag", hello_rpm)
    task_id = hub.make_task("createrepo", [repo_id, "x86_64", None], channel="createrepo")
    worker = start_worker()
    task = wait_task(hub, task_id)
    assert task["state_name"] == "CLOSED", worker.log()[-3000:]
    uploadpath, files = hub.task_result(task_id)
    assert uploadpath == koji.pathinfo.taskrelpath(task_id)
    assert "repomd.xml" in files and "comps.xml" in " ".join(files)
    primary = next(f for f in files if f.endswith("primary.xml.gz"))
    with gzip.open(hub.work_path(f"{uploadpath}/{primary}")) as fh:
        assert b"<name>adjutant-hello</name>" in fh.read()
    for name in files:
        assert hub.work_path(f"{uploadpath}/{name}").is_file()


def _merged_createrepo(hub: FakeHub, repo_id: int, start_worker: StartWorker) \
        -> tuple[str, list[str], dict[str, str]]:
    """Run createrepo for x86_64 → (upload path, files, N-V-R.A → origin from pkgorigins)."""
    task_id = hub.make_task("createrepo", [repo_id, "x86_64", None], channel="createrepo")
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    uploadpath, files = hub.task_result(task_id)
    origins_file = next(f for f in files if f.endswith("pkgorigins.gz"))
    with gzip.open(hub.work_path(f"{uploadpath}/{origins_file}"), "rt") as fh:
        lines = [line.split() for line in fh.read().splitlines()]
    return uploadpath, files, {nvra: origin for nvra, origin, *_rest in lines}


def test_createrepo_merges_the_tags_external_repos_with_origins(
        hub: FakeHub, hello_rpm: Path, repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, start_worker: StartWorker) -> None:
    hub.add_tag("merged-tag", arches="x86_64")
    upstream = make_external_repo(hub, podman_runtime, "merged-tag", "upstream",
                                  [repo_packages["dep-1"]])
    repo_id = _koji_repo(hub, "merged-tag", hello_rpm)
    uploadpath, files, origins = _merged_createrepo(hub, repo_id, start_worker)
    assert origins["adjutant-dep-1.0-1.noarch"] == upstream
    # kojid recognises the tag's own packages by this ending of their origin.
    assert origins["adjutant-hello-1.0-1.noarch"].endswith(f"/repo_{repo_id}_premerge/")
    primary = next(f for f in files if f.endswith("primary.xml.gz"))
    with gzip.open(hub.work_path(f"{uploadpath}/{primary}")) as fh:
        text = fh.read()
    assert b"<name>adjutant-hello</name>" in text and b"<name>adjutant-dep</name>" in text
    assert "merging with external repos: upstream" in hub.work_path(
        f"{uploadpath}/mergerepos.log").read_text()


def test_an_external_repo_for_other_arches_still_makes_a_merged_repo(
        hub: FakeHub, hello_rpm: Path, repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, start_worker: StartWorker) -> None:
    hub.add_tag("arm-only", arches="x86_64")
    make_external_repo(hub, podman_runtime, "arm-only", "upstream-arm",
                       [repo_packages["dep-1"]], arches="aarch64")
    repo_id = _koji_repo(hub, "arm-only", hello_rpm)
    uploadpath, _files, origins = _merged_createrepo(hub, repo_id, start_worker)
    assert list(origins) == ["adjutant-hello-1.0-1.noarch"]
    assert "none serves x86_64" in hub.work_path(f"{uploadpath}/mergerepos.log").read_text()


def test_createrepo_is_refused_without_the_hub_topdir(
        hub: FakeHub, hello_rpm: Path, start_worker: StartWorker, tmp_path: Path) -> None:
    hub.add_tag("repo-tag", arches="x86_64")
    repo_id = _koji_repo(hub, "repo-tag", hello_rpm)
    task_id = hub.make_task("createrepo", [repo_id, "x86_64", None], channel="createrepo")
    start_worker(kojid={"topdir": tmp_path / "not-mounted"})
    wait_for(lambda: hub.refusals(task_id), 60, message="a refusal")
    refusal = hub.refusals(task_id)[0]
    assert refusal["soft"] and "not mounted" in refusal["msg"]
