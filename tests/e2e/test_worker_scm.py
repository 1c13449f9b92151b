"""buildSRPMFromSCM: a git checkout inside a container, the source command, rpmbuild -bs,
and the parent build from an SCM URL."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.sbom.compare import read_sbom
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import build_arch_task, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]

SPEC = """Name: scm-hello
Version: 2.0
Release: 1
Summary: built from git
License: MIT
BuildArch: noarch
Source0: hello.sh

%description
From an SCM checkout.

%prep
cp %{SOURCE0} .

%install
install -D -m 0755 hello.sh %{buildroot}/usr/bin/scm-hello

%files
/usr/bin/scm-hello
"""
# `make sources` fetches what the spec needs: here it writes it.
MAKEFILE = "sources:\n\tprintf '#!/bin/sh\\necho hello from git\\n' > hello.sh\n"
ALLOWED = "127.0.0.1*:/kojifiles/scm/*:no:make,sources"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def serve_git_repo(hub: FakeHub, tmp_path: Path, name: str, files: dict[str, str]) \
        -> Callable[..., str]:
    """A git repo of ``files`` served read-only by the hub's file server (git's dumb HTTP
    protocol); returns ``url(revision=HEAD)``, with the commit as ``url.commit``."""
    work = tmp_path / f"{name}-work"
    work.mkdir()
    for filename, text in files.items():
        (work / filename).parent.mkdir(parents=True, exist_ok=True)
        (work / filename).write_text(text)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "v2",
        cwd=work)
    bare = hub.topdir / "scm" / f"{name}.git"
    bare.parent.mkdir(exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    git("update-server-info", cwd=bare)
    commit = git("rev-parse", "HEAD", cwd=work)

    def url(revision: str = commit) -> str:
        return f"git+http://127.0.0.1:{hub.port}/kojifiles/scm/{name}.git#{revision}"

    url.commit = commit  # type: ignore[attr-defined]
    return url


@pytest.fixture
def scm_url(hub: FakeHub, tmp_path: Path) -> Callable[..., str]:
    return serve_git_repo(hub, tmp_path, "scm-hello",
                          {"scm-hello.spec": SPEC, "Makefile": MAKEFILE})


def scm_worker(start_worker: StartWorker, allowed: str = ALLOWED) -> WorkerProcess:
    # The hub listens on the host's loopback: the checkout uses the host network here.
    return start_worker(kojid={"allowed_scms": allowed}, adjutant={"scm_network": "host"})


def test_build_srpm_from_scm_checks_out_runs_make_sources_and_builds_the_srpm(
        hub: FakeHub, build_tag: dict[str, Any], scm_url: Any,
        start_worker: StartWorker) -> None:
    task_id = hub.make_task("buildSRPMFromSCM", [scm_url("main"), build_tag["name"],
                                                 {"repo_id": build_tag["repo_id"]}])
    worker = scm_worker(start_worker)
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "CLOSED", worker.log()[-4000:]
    result = hub.task_result(task_id)
    taskdir = koji.pathinfo.taskrelpath(task_id)
    assert set(result) == {"srpm", "logs", "brootid", "source"}
    assert result["srpm"] == f"{taskdir}/scm-hello-2.0-1.src.rpm"
    assert result["source"] == {
        "url": scm_url("main"),
        "source": f"git+http://127.0.0.1:{hub.port}/kojifiles/scm/scm-hello.git#"
                  f"{scm_url.commit}",
    }
    assert f"{taskdir}/checkout.log" in result["logs"]
    # The SBOM says what the SRPM was made from: the SCM URL at the exact commit.
    sbom = json.loads(hub.work_path(f"{taskdir}/buildroot.spdx.json").read_text())
    made_from = next(p for p in sbom["packages"] if p["SPDXID"] == "SPDXRef-Source")
    assert made_from["downloadLocation"] == \
        f"git+http://127.0.0.1:{hub.port}/kojifiles/scm/scm-hello.git@{scm_url.commit}"
    assert read_sbom(sbom).outputs[0][0] == "scm-hello-2.0-1.src.rpm"
    checkout_log = hub.work_path(f"{taskdir}/checkout.log").read_text()
    assert "$ git clone" in checkout_log and "$ make sources" in checkout_log
    assert hub.history.buildroot_states(result["brootid"]) == ["INIT", "BUILDING", "EXPIRED"]
    assert ("adjutant-buildsys-1.0-1.noarch", False) in \
        hub.buildroot(result["brootid"])["listing"]  # the srpm-build group


def test_a_url_not_in_allowed_scms_fails_naming_it(
        hub: FakeHub, build_tag: dict[str, Any], scm_url: Any,
        start_worker: StartWorker) -> None:
    task_id = hub.make_task("buildSRPMFromSCM", [scm_url(), build_tag["name"],
                                                 {"repo_id": build_tag["repo_id"]}])
    scm_worker(start_worker, allowed="git.example.com:/rpms/*")
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match="is not in the list of allowed SCMs"):
        hub.task_result(task_id)


def test_an_unknown_revision_fails_the_checkout_clearly(
        hub: FakeHub, build_tag: dict[str, Any], scm_url: Any,
        start_worker: StartWorker) -> None:
    task_id = hub.make_task("buildSRPMFromSCM", [scm_url("no-such-branch"), build_tag["name"],
                                                 {"repo_id": build_tag["repo_id"]}])
    scm_worker(start_worker)
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match="revision 'no-such-branch' is neither"):
        hub.task_result(task_id)


def test_koji_build_from_git_completes_with_the_commit_as_source(
        hub: FakeHub, build_tag: dict[str, Any], scm_url: Any,
        start_worker: StartWorker) -> None:
    hub.add_tag("f-dest", arches=None)
    hub.add_package("f-dest", "scm-hello")
    hub.add_target("f-target", build_tag["name"], "f-dest")
    parent = hub.make_task("build", [scm_url(), "f-target", {}])
    worker = scm_worker(start_worker)
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    build = hub.build("scm-hello-2.0-1")
    assert build["state"] == koji.BUILD_STATES["COMPLETE"]
    assert build["source"].endswith(f"#{scm_url.commit}")
    assert hub.tagged("f-dest") == ["scm-hello-2.0-1"]


def test_a_spec_swapped_for_a_link_to_a_host_file_is_refused_not_read(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker) -> None:
    secret_text = f"Vendor: host secret {uuid.uuid4().hex}"
    secret = tmp_path / "host" / "kojid.conf"
    secret.parent.mkdir()
    secret.write_text(secret_text)
    # `make sources` runs in the checkout container and replaces the spec with a link.
    url = serve_git_repo(hub, tmp_path, "scm-hostile", {
        "scm-hostile.spec": SPEC,
        "Makefile": f"sources:\n\tln -sf {secret} scm-hostile.spec\n"})
    task_id = hub.make_task("buildSRPMFromSCM", [url("main"), build_tag["name"],
                                                 {"repo_id": build_tag["repo_id"]}])
    worker = scm_worker(start_worker)
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "FAILED", worker.log()[-4000:]
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(task_id)
    assert "no spec file found" in str(err.value)
    assert "src/scm-hostile.spec: a symbolic link" in str(err.value)
    taskdir = hub.work_path(koji.pathinfo.taskrelpath(task_id))
    assert "refused src/scm-hostile.spec: a symbolic link" in \
        (taskdir / "checkout.log").read_text()
    for path in taskdir.rglob("*"):
        assert secret_text.encode() not in path.read_bytes(), path


def test_scm_credentials_dir_is_mounted_read_only_in_the_checkout_only(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "token").write_text("s3cret\n")
    # `make sources` (checkout container) needs the token; the build must not see it.
    url = serve_git_repo(hub, tmp_path, "scm-creds", {
        "scm-creds.spec": SPEC.replace("Name: scm-hello", "Name: scm-creds").replace(
            "%install", "%build\ntest ! -e /credentials\n\n%install"),
        "Makefile": "sources:\n\ttest \"$$(cat /credentials/token)\" = s3cret\n"
                    "\t! touch /credentials/token 2>/dev/null\n" + MAKEFILE.split("\n", 1)[1]})
    srpm_task = hub.make_task("buildSRPMFromSCM", [url("main"), build_tag["name"],
                                                   {"repo_id": build_tag["repo_id"]}])
    worker = start_worker(kojid={"allowed_scms": ALLOWED, "scm_credentials_dir": credentials},
                          adjutant={"scm_network": "host"})
    assert wait_task(hub, srpm_task, timeout=180)["state_name"] == "CLOSED", \
        worker.log()[-4000:]
    arch_task = build_arch_task(hub, hub.task_result(srpm_task)["srpm"], build_tag)
    assert wait_task(hub, arch_task, timeout=180)["state_name"] == "CLOSED", \
        worker.log()[-4000:]
