"""``adjutant build --tag`` / ``--task`` against the fake hub, read anonymously through a
koji client profile: the tag's policy image, repo and rpm.macro.*; a failed task's image
and repo id."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adjutant.buildroot.cache import BuildrootCache
from adjutant.container.runtime import ContainerRuntime
from adjutant.image.default import DEFAULT_IMAGE
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, make_koji_repo, package_spec
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

ALT_IMAGE = "localhost/adjutant-buildroot-alt:from-hub-test"
TAG = "pk-build"


@pytest.fixture
def alt_image(podman_runtime: ContainerRuntime) -> Iterator[str]:
    podman_runtime.tag_image(DEFAULT_IMAGE, ALT_IMAGE)
    yield ALT_IMAGE
    podman_runtime.remove_image(ALT_IMAGE, force=False)


@pytest.fixture
def tag(hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        alt_image: str) -> dict[str, Any]:
    policy = json.dumps({"rules": [{"type": "tag", "tag": "*", "image": alt_image}]})
    hub.add_tag(TAG, arches="x86_64", extra={"rpm.macro.dist": ".fk1",
                                             "adjutant_image_policy": policy})
    rpms = [repo_packages[k] for k in ("buildsys", "dep-1", "tool")]
    return {"name": TAG, "repo_id": make_koji_repo(hub, podman_runtime, TAG, rpms, GROUPS),
            "rpms": rpms}


@pytest.fixture
def profile_env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    """HOME with ~/.koji/config holding profile ``fakehub``, as the koji command reads it."""
    home = tmp_path / "home"
    (home / ".koji").mkdir(parents=True)
    (home / ".koji" / "config").write_text(
        f"[fakehub]\nserver = {hub.url}\ntopurl = {hub.topurl}\ntopdir = {hub.topdir}\n")
    return {"HOME": str(home)}


@pytest.fixture
def cache_dir(tmp_path: Path, podman_runtime: ContainerRuntime) -> Iterator[Path]:
    yield tmp_path / "cache"
    BuildrootCache(tmp_path / "cache" / "buildroots").prune(podman_runtime, max_images=0)


def user_srpm(tmp_path: Path, name: str, build_check: str) -> Path:
    return make_srpm(package_spec(name, release="1%{?dist}", build_requires=["adjutant-tool"],
                                  build_check=build_check), tmp_path / name)


def test_tag_builds_with_the_tags_repo_dist_and_policy_image(
        tag: dict[str, Any], profile_env: dict[str, str], cache_dir: Path,
        tmp_path: Path) -> None:
    srpm = user_srpm(tmp_path, "hub-user", "cat /usr/share/adjutant-dep/marker")
    out = tmp_path / "out"
    proc = adjutant("build", srpm, "-o", out, "--profile", "fakehub", "--tag", TAG,
                    "--cache-dir", cache_dir, "--runtime", "podman", env=profile_env)
    assert proc.returncode == 0, proc.stderr
    assert (out / "hub-user-1.0-1.fk1.noarch.rpm").exists()
    assert f"image: {ALT_IMAGE}" in proc.stderr
    assert f"hub policy of tag {TAG}" in proc.stderr
    root_log = (out / "root.log").read_text()
    assert f"repo: {tag['repo_id']} of tag {TAG}" in root_log
    assert "installing group build" in root_log
    assert "1.0-1" in (out / "build.log").read_text()  # adjutant-dep 1.0 from the repo
    # -r is --tag's mock spelling when a profile is set; a re-run hits the cache.
    again = adjutant("build", "--rebuild", srpm, "--resultdir", tmp_path / "again",
                     "--profile", "fakehub", "-r", TAG, "--cache-dir", cache_dir,
                     "--runtime", "podman", env=profile_env)
    assert again.returncode == 0, again.stderr
    assert "(cache hit: no dnf)" in again.stderr


def test_task_rebuilds_a_failed_hub_task_in_its_image_and_repo(
        hub: FakeHub, tag: dict[str, Any], podman_runtime: ContainerRuntime,
        profile_env: dict[str, str], cache_dir: Path, tmp_path: Path,
        start_worker: Callable[..., WorkerProcess]) -> None:
    srpm = user_srpm(tmp_path, "hub-breaks", "echo broken on purpose; exit 3")
    task = build_arch_task(hub, upload_srpm(hub, srpm), tag)
    worker = start_worker()
    assert wait_task(hub, task, timeout=240)["state_name"] == "FAILED", worker.log()[-3000:]
    worker.stop()
    newer = make_koji_repo(hub, podman_runtime, TAG, tag["rpms"], GROUPS)
    assert newer != tag["repo_id"]
    out = tmp_path / "out"
    proc = adjutant("build", srpm, "-o", out, "--profile", "fakehub", "--task", str(task),
                    "--cache-dir", cache_dir, "--runtime", "podman", env=profile_env)
    assert proc.returncode == 1
    assert "build failed at step %build" in proc.stderr
    assert f"image: {ALT_IMAGE}" in proc.stderr
    assert f"the image task {task} ran in" in proc.stderr
    root_log = (out / "root.log").read_text()
    assert f"repo: {tag['repo_id']} of tag {TAG}" in root_log
    assert "broken on purpose" in (out / "build.log").read_text()
