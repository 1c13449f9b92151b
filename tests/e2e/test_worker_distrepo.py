"""distRepo / createdistrepo against the fake hub: a dist repo of a tag's latest builds,
the signed copies where the keys asked for have them, that dnf installs from."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji

from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.rpm.header import read_rpm
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import (
    build_package,
    install_from_repo,
    package_spec,
    register_packages,
)
from tests.support.kojisetup import wait_task
from tests.support.worker import WorkerProcess

KEY = "abcd1234"


def _signed_copy(hub: FakeHub, runtime: ContainerRuntime, tmp_path: Path,
                 rpm: dict[str, Any]) -> Path:
    """A 'signed copy' of adjutant-dep-1.0-1 at the hub's signed path: a second build of
    the same N-V-R (another build time), so that the repo shows which file it took."""
    built = build_package(runtime, load_plugins(LoadOptions()),
                          package_spec("adjutant-dep", "1.0", build_check="echo signed"),
                          tmp_path / "signed")[0]
    path = hub.topdir / "packages/adjutant-dep/1.0/1" / koji.pathinfo.signed(rpm, KEY)
    path.parent.mkdir(parents=True)
    shutil.copy(built, path)
    hub.add_rpm_sig(rpm["id"], KEY)
    return path


def dist_repo_task(hub: FakeHub, write_signed_rpms: bool) -> int:
    """``koji dist-repo f-dist KEY --allow-missing-signatures`` by a releng user, with the
    options koji's CLI sends."""
    hub.add_user("releng", "pw", perms=["dist-repo"])
    return int(hub.client("releng", "pw").distRepo(
        "f-dist", [KEY], arch=["x86_64"], inherit=False, latest=True, multilib=False,
        split_debuginfo=False, skip_missing_signatures=False, allow_missing_signatures=True,
        comps=None, delta=[], event=None, volume=None, zck=False, zck_dict_dir=None,
        write_signed_rpms=write_signed_rpms))


def test_dist_repo_has_both_packages_the_signed_one_from_the_signed_path(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        tmp_path: Path, start_worker: Callable[..., WorkerProcess]) -> None:
    hub.add_tag("f-dist", arches="x86_64")
    registered = register_packages(hub, [repo_packages["dep-1"], repo_packages["tool"]])
    for _path, _info, _rel, build_id, _rpm_id in registered:
        hub.tag_build("f-dist", build_id)
    unsigned_tool = hub.topdir / registered[1][2]
    dep_row = hub.client().getRPM(registered[0][4])
    signed = _signed_copy(hub, podman_runtime, tmp_path, dep_row)
    task_id = dist_repo_task(hub, write_signed_rpms=False)
    worker = start_worker()
    task = wait_task(hub, task_id)
    assert task["state_name"] == "CLOSED", worker.log()[-4000:]
    repo_id = hub.task(task_id)["request"][1]
    assert hub.task_result(task_id) == f"Dist repository #{repo_id} successfully generated"
    assert hub.repo(repo_id)["state"] == koji.REPO_READY

    archdir = hub.repo_path(repo_id) / "x86_64"
    assert archdir.parent.parent.parent.name == "repos-dist"
    packages = archdir / "Packages" / "a"
    assert sorted(p.name for p in packages.iterdir()) == [
        "adjutant-dep-1.0-1.noarch.rpm", "adjutant-tool-1.0-1.noarch.rpm"]
    assert (packages / "adjutant-dep-1.0-1.noarch.rpm").samefile(signed)
    assert (packages / "adjutant-tool-1.0-1.noarch.rpm").samefile(unsigned_tool)
    assert (archdir / "repodata" / "repomd.xml").is_file()
    child, = hub.children(task_id)
    logs = hub.work_path(koji.pathinfo.taskrelpath(child))
    assert "adjutant-tool-1.0-1.noarch" in (logs / "missing_signatures.log").read_text()

    text = install_from_repo(podman_runtime, archdir, ["adjutant-tool"],
                             "rpm -q adjutant-tool adjutant-dep")
    assert "adjutant-tool-1.0-1.noarch" in text and "adjutant-dep-1.0-1.noarch" in text


def test_write_signed_rpms_has_the_hub_write_the_signed_copies_first(
        hub: FakeHub, repo_packages: dict[str, Path],
        start_worker: Callable[..., WorkerProcess]) -> None:
    hub.add_tag("f-dist", arches="x86_64")
    registered = register_packages(hub, [repo_packages["dep-1"], repo_packages["tool"]])
    for _path, _info, _rel, build_id, _rpm_id in registered:
        hub.tag_build("f-dist", build_id)
    # The hub has the dep's signature by KEY (its stored header: here the rpm's own,
    # digests only, as the hub keeps any header addRPMSig was given) but no signed copy.
    dep_path, _info, _rel, _build, dep_id = registered[0]
    hub.add_rpm_sig(dep_id, KEY, koji.rip_rpm_sighdr(str(dep_path)))
    signed = hub.topdir / "packages/adjutant-dep/1.0/1" / koji.pathinfo.signed(
        hub.client().getRPM(dep_id), KEY)
    assert not signed.exists()
    task_id = dist_repo_task(hub, write_signed_rpms=True)
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-4000:]
    assert signed.is_file()
    # The stored header spliced back onto the rpm: the same rpm, byte for byte.
    assert read_rpm(signed).name == "adjutant-dep"
    assert signed.read_bytes() == Path(dep_path).read_bytes()
    repo_id = hub.task(task_id)["request"][1]
    packages = hub.repo_path(repo_id) / "x86_64" / "Packages" / "a"
    assert (packages / "adjutant-dep-1.0-1.noarch.rpm").samefile(signed)
    child, = hub.children(task_id)
    log = hub.work_path(f"{koji.pathinfo.taskrelpath(child)}/written_signed_rpms.log")
    assert log.read_text() == f"Signed RPM {dep_id} is written with {KEY} key.\n"
