"""Image policy in a running worker (buildroots off: the images are the subject here):
per-tag images, failures that name the tag or image,
and the image's provenance at the top of root.log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import koji
import podman
import pytest

from adjutant.image.default import DEFAULT_IMAGE
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import build_arch_task, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]
ALT_IMAGE = "localhost/adjutant-buildroot-alt:policy-test"


@pytest.fixture(scope="module")
def alt_image(podman_ready: None) -> Iterator[str]:
    """A second local image (the default one under another name)."""
    client = podman.PodmanClient(base_url="unix:///run/podman/podman.sock")
    repo, tag = ALT_IMAGE.rsplit(":", 1)
    client.images.get(DEFAULT_IMAGE).tag(repo, tag)
    yield ALT_IMAGE
    client.images.remove(ALT_IMAGE)
    client.close()


def policy(image: str) -> str:
    return json.dumps({"rules": [{"type": "tag", "tag": "*", "image": image}]})


def tag_with_repo(hub: FakeHub, name: str, extra: dict[str, Any]) -> dict[str, Any]:
    hub.add_tag(name, arches="x86_64", extra=extra)
    return {"name": name, "repo_id": hub.add_repo(name, arches=["x86_64"])}


def root_log(hub: FakeHub, task_id: int) -> str:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/root.log").read_text()


def test_two_tags_get_different_images_in_one_worker_run(
        hub: FakeHub, hello_srpm: Path, alt_image: str, start_worker: StartWorker,
        tmp_path: Path) -> None:
    default_tag = tag_with_repo(hub, "default-build",
                                {"adjutant_image_policy": policy(DEFAULT_IMAGE)})
    alt_tag = tag_with_repo(hub, "alt-build", {"adjutant_image_policy": policy(alt_image)})
    srpm = upload_srpm(hub, hello_srpm)
    first = build_arch_task(hub, srpm, default_tag)
    second = build_arch_task(hub, srpm, alt_tag)
    worker = start_worker(adjutant={"cache_dir": tmp_path / "cache", "buildroot_enabled": "no"})
    for task_id in (first, second):
        assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    first_log, second_log = root_log(hub, first), root_log(hub, second)
    assert first_log.splitlines()[0] == f"image: {DEFAULT_IMAGE}"
    assert second_log.splitlines()[0] == f"image: {alt_image}"
    # Provenance: the image id, and which rule chose it.
    assert second_log.splitlines()[1].startswith("image id: sha256:")
    assert "hub policy of tag alt-build: rule 1 (tag: tag=*)" in second_log


def test_a_malformed_policy_fails_the_task_naming_the_tag(
        hub: FakeHub, hello_srpm: Path, start_worker: StartWorker, tmp_path: Path) -> None:
    tag = tag_with_repo(hub, "broken-policy-build",
                        {"adjutant_image_policy": '{"rules": [{"type": "tag"}]}'})
    task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), tag)
    start_worker(adjutant={"cache_dir": tmp_path / "cache", "buildroot_enabled": "no"})
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(task_id)
    assert "tag broken-policy-build" in str(err.value)
    assert "rule 1 (tag) has no image" in str(err.value)


def test_an_image_that_cannot_be_had_fails_the_task_naming_it(
        hub: FakeHub, hello_srpm: Path, start_worker: StartWorker, tmp_path: Path) -> None:
    missing = "localhost/no-such-image:1"
    tag = tag_with_repo(hub, "missing-image-build", {"adjutant_image_policy": policy(missing)})
    task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), tag)
    start_worker(adjutant={"cache_dir": tmp_path / "cache", "image_pull_policy": "never",
                           "buildroot_enabled": "no"})
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(task_id)
    assert f"image '{missing}' is not available" in str(err.value)
    assert "image_pull_policy is 'never'" in str(err.value)
