"""Every build says what built it: buildroot.spdx.json uploaded with a buildArch's logs,
valid SPDX 2.3, the same on a cache hit, and ``adjutant sbom --diff`` naming what changed
between two builds' buildroots."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import koji

from adjutant.container.runtime import ContainerRuntime
from adjutant.rpm.header import read_rpm
from adjutant.sbom.compare import read_sbom
from adjutant.worker.hublog import UPLOAD_PIECE
from tests.e2e.test_worker_buildroot import (
    NEEDS_TOOL,
    StartWorker,
    builds_before_and_after_a_new_dep,
)
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.spdx import spdx_problems

SBOM = "buildroot.spdx.json"


def sbom_path(hub: FakeHub, task_id: int) -> Path:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{SBOM}")


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The buildroot's packages (not the build's own files) by name."""
    return {p["name"]: p for p in doc["packages"]
            if p["SPDXID"].startswith(("SPDXRef-rpm-", "SPDXRef-deb-"))}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_build_uploads_a_valid_sbom_and_a_cache_hit_lists_the_same_packages(
        hub: FakeHub, build_tag: dict[str, Any], repo_packages: dict[str, Path],
        tmp_path: Path, start_worker: StartWorker) -> None:
    srpm = make_srpm(NEEDS_TOOL, tmp_path / "srpm")
    srpm_rel = upload_srpm(hub, srpm)
    first = build_arch_task(hub, srpm_rel, build_tag)
    worker = start_worker()
    assert wait_task(hub, first)["state_name"] == "CLOSED", worker.log()[-3000:]
    path = sbom_path(hub, first)
    assert path.stat().st_size > UPLOAD_PIECE  # so it went up whole, not piece by piece
    assert spdx_problems(path) == []
    doc = json.loads(path.read_text())

    packages = by_name(doc)
    group = packages["adjutant-buildsys"]  # the build group's member, from the tag's repo
    assert group["sourceInfo"] == f"tag-repo: repo {build_tag['repo_id']} of tag f-build"
    sigmd5 = read_rpm(repo_packages["buildsys"]).payloadhash
    assert {"algorithm": "MD5", "checksumValue": sigmd5} in group["checksums"]
    assert packages["adjutant-dep"]["versionInfo"] == "1.0-1"
    image_only = packages["coreutils"]  # only the image has it (a deb of the default image)
    assert image_only["sourceInfo"].startswith("image: localhost/adjutant-buildroot:bookworm")
    assert [c["algorithm"] for c in image_only["checksums"]] == ["SHA256"]
    assert packages["rpm"]["sourceInfo"].startswith("image: ")  # the buildroot's rpm
    assert "rpm RPM version" in doc["creationInfo"]["comment"]
    assert doc["creationInfo"]["creators"][0].startswith("Tool: koji-adjutant-")

    # Its outputs are the files the hub got, by digest.
    result = hub.task_result(first)
    uploaded = {Path(p).name: sha256(hub.work_path(p))
                for p in (*result["rpms"], *result.get("srpms", []))}
    assert dict(read_sbom(doc).outputs) == uploaded
    assert any(p.endswith(f"/{SBOM}") for p in result["logs"])  # uploaded with the logs

    second = build_arch_task(hub, srpm_rel, build_tag)
    assert wait_task(hub, second)["state_name"] == "CLOSED", worker.log()[-3000:]
    assert "buildroot cache hit" in hub.work_path(
        f"{koji.pathinfo.taskrelpath(second)}/root.log").read_text()
    warm = read_sbom(json.loads(sbom_path(hub, second).read_text()))
    assert warm.packages == read_sbom(doc).packages

    topurl = (hub.work_path("").parent).as_uri()
    summary = adjutant("sbom", str(first), "--topurl", topurl)
    assert summary.returncode == 0, summary.stderr
    assert f"buildArch task {first} of {srpm.name} on x86_64" in summary.stdout
    same = adjutant("sbom", str(second), "--diff", str(first), "--topurl", topurl)
    assert same.returncode == 0, same.stderr
    assert same.stdout.splitlines()[-1] == "the two buildroots hold the same packages"


def test_diff_names_the_one_package_whose_version_changed(
        hub: FakeHub, build_tag: dict[str, Any], repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, tmp_path: Path, start_worker: StartWorker) -> None:
    first, second = builds_before_and_after_a_new_dep(
        hub, build_tag, repo_packages, podman_runtime, make_srpm(NEEDS_TOOL, tmp_path / "s"),
        start_worker)

    topurl = (hub.work_path("").parent).as_uri()
    proc = adjutant("sbom", str(second), "--diff", str(first), "--topurl", topurl)
    assert proc.returncode == 0, proc.stderr
    changes = [line for line in proc.stdout.splitlines() if line[:2] in ("+ ", "- ", "~ ")]
    assert changes == ["~ adjutant-dep.noarch 1.0-1 -> 2.0-1"]
    as_json = json.loads(adjutant("sbom", str(second), "--diff", str(first), "--topurl",
                                  topurl, "--json").stdout)
    assert as_json["added"] == [] and as_json["removed"] == []
    assert [(a["name"], b["version"]) for a, b in as_json["changed"]] == \
        [("adjutant-dep", "2.0-1")]
