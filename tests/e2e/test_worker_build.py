"""The parent build task: policies, rebuildSRPM, buildArch per arch, import and tagging,
all served by adjutant workers."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, make_koji_repo, package_spec, register_packages
from tests.support.kojisetup import make_srpm, new_repo, upload_srpm, wait_task
from tests.support.mailbox import Mailbox
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]


@pytest.fixture(scope="module")
def tool_user_srpm(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = package_spec("tool-user", build_requires=["adjutant-tool"],
                        build_check="cat /usr/share/adjutant-tool/marker")
    return make_srpm(spec, tmp_path_factory.mktemp("tool-user"))


@pytest.fixture
def target(hub: FakeHub, build_tag: dict[str, Any]) -> str:
    hub.add_tag("f-dest", arches=None)
    hub.add_package("f-dest", "tool-user")
    hub.add_target("f-target", build_tag["name"], "f-dest")
    return "f-target"


def children(hub: FakeHub, parent: int) -> dict[str, dict[str, Any]]:
    return {hub.task(c)["label"]: hub.task(c) for c in hub.children(parent)}


def test_a_build_is_rebuilt_built_imported_and_tagged(
        hub: FakeHub, target: str, tool_user_srpm: Path, start_worker: StartWorker) -> None:
    parent = hub.make_task("build", [upload_srpm(hub, tool_user_srpm), target, {}])
    worker = start_worker()
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    assert hub.task_result(parent) is None
    kids = children(hub, parent)
    assert {label: (t["method"], t["state_name"]) for label, t in kids.items()} == {
        "srpm": ("rebuildSRPM", "CLOSED"),
        "noarch": ("buildArch", "CLOSED"),
        "tag": ("tagBuild", "CLOSED"),
    }
    build = hub.build("tool-user-1.0-1")
    assert build["state"] == koji.BUILD_STATES["COMPLETE"]
    assert build["rpms"] == ["tool-user-1.0-1.noarch", "tool-user-1.0-1.src"]
    assert build["task_id"] == parent
    assert hub.tagged("f-dest") == ["tool-user-1.0-1"]
    assert (hub.topdir / "packages/tool-user/1.0/1/noarch/tool-user-1.0-1.noarch.rpm").exists()


def test_a_draft_build_carries_its_draft_flag_source_and_the_users_metadata(
        hub: FakeHub, target: str, tool_user_srpm: Path, start_worker: StartWorker) -> None:
    """``koji build --draft --custom-user-metadata``: initBuild gets what kojid sends, so
    the hub makes a draft (release ``1,draft_<id>``) that does not take the N-V-R."""
    uploaded = upload_srpm(hub, tool_user_srpm)
    parent = hub.make_task("build", [uploaded, target, {
        "draft": True, "custom_user_metadata": {"team": "qa", "ticket": 42}}])
    worker = start_worker()
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    [build] = hub.client().listBuilds(taskID=parent)
    assert (build["draft"], build["release"], build["state"]) == (
        True, f"1,draft_{build['id']}", koji.BUILD_STATES["COMPLETE"])
    assert build["source"] == tool_user_srpm.name
    assert build["extra"] == {"source": {"original_url": tool_user_srpm.name},
                              "custom_user_metadata": {"team": "qa", "ticket": 42}}
    assert hub.tagged("f-dest") == [build["nvr"]]


def test_a_scratch_build_goes_to_scratch_and_is_not_tagged(
        hub: FakeHub, target: str, tool_user_srpm: Path, start_worker: StartWorker) -> None:
    parent = hub.make_task("build", [upload_srpm(hub, tool_user_srpm), target,
                                     {"scratch": True}])
    worker = start_worker()
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    assert "tag" not in children(hub, parent)
    assert hub.tagged("f-dest") == []
    scratch = list((hub.topdir / "scratch").rglob("tool-user-1.0-1.noarch.rpm"))
    assert len(scratch) == 1 and f"task_{parent}" in str(scratch[0])


def test_a_noarch_package_exclusive_to_some_tag_arches_builds_on_one_of_them(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        tmp_path: Path, start_worker: StartWorker) -> None:
    """As kojid's parent: the noarch buildArch of a package whose ExclusiveArch leaves
    only x86_64 of the tag's arches is scheduled by x86_64 (so that no s390x host takes
    it), and its buildroot is x86_64's. The SRPM's rebuild, bound by nothing, stays noarch."""
    hub.add_tag("f-wide", arches="x86_64 s390x")
    make_koji_repo(hub, podman_runtime, "f-wide", [repo_packages["buildsys"]], GROUPS)
    hub.add_tag("f-wide-dest", arches=None)
    hub.add_target("f-wide-target", "f-wide", "f-wide-dest")
    srpm = make_srpm(package_spec("pinned", exclusive_arch=["x86_64", "noarch"]),
                     tmp_path / "pinned")
    parent = hub.make_task("build", [upload_srpm(hub, srpm), "f-wide-target",
                                     {"scratch": True}])
    worker = start_worker()
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    kids = children(hub, parent)
    assert (kids["srpm"]["arch"], kids["noarch"]["arch"]) == ("noarch", "x86_64")
    [broot] = hub.buildroots(kids["noarch"]["id"])
    assert hub.buildroot(broot)["container_arch"] == "x86_64"


def test_a_build_from_a_repo_id_names_a_target_or_nothing(
        hub: FakeHub, target: str, build_tag: dict[str, Any], tool_user_srpm: Path,
        tmp_path: Path, start_worker: StartWorker) -> None:
    """``koji build --repo-id``: the target's build tag must be the repo's; with no
    target the build is made but tagged nowhere (kojid's skip_tag)."""
    uploaded = upload_srpm(hub, tool_user_srpm)
    repo_id = build_tag["repo_id"]
    into_target = hub.make_task("build", [uploaded, target, {"repo_id": repo_id}])
    worker = start_worker()
    assert wait_task(hub, into_target, timeout=240)["state_name"] == "CLOSED", \
        worker.log()[-4000:]
    assert hub.tagged("f-dest") == ["tool-user-1.0-1"]

    hub.add_tag("f-other-build")
    hub.add_target("f-other", "f-other-build", "f-dest")
    mismatch = hub.make_task("build", [uploaded, "f-other", {"repo_id": repo_id}])
    assert wait_task(hub, mismatch, timeout=240)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match=f"Repo/Target mismatch: repo {repo_id} is of "
                                              "tag f-build, target f-other builds from "
                                              "f-other-build"):
        hub.task_result(mismatch)

    srpm = make_srpm(package_spec("untagged"), tmp_path / "untagged")  # listed nowhere
    nowhere = hub.make_task("build", [upload_srpm(hub, srpm), None, {"repo_id": repo_id}])
    assert wait_task(hub, nowhere, timeout=240)["state_name"] == "CLOSED", \
        worker.log()[-4000:]
    assert hub.build("untagged-1.0-1")["state"] == koji.BUILD_STATES["COMPLETE"]
    assert "tag" not in children(hub, nowhere)


def test_a_build_waiting_for_a_build_gets_a_repo_that_holds_it(
        hub: FakeHub, repo_packages: dict[str, Path], tool_user_srpm: Path,
        start_worker: StartWorker) -> None:
    """``koji build --wait-build``: the current repo lacks the build, so the parent waits
    (a waitrepo subtask) until a newer repo holds it (the test plays kojira)."""
    hub.add_tag("wait-build", arches="x86_64", groups=dict(GROUPS))
    hub.add_tag("wait-dest", arches=None)
    hub.add_target("wait-target", "wait-build", "wait-dest")
    for *_rest, build_id, _rpm in register_packages(
            hub, [repo_packages[k] for k in ("buildsys", "dep-1", "tool")]):
        hub.tag_build("wait-build", build_id)
    # a host of its own: a same-named worker elsewhere would take its containers as leftovers
    worker = start_worker(host="waiter1", adjutant={"repo_wait_interval": 0.5})
    stale = new_repo(hub, "wait-build")
    [(*_rest, newer_build, _rpm)] = register_packages(hub, [repo_packages["dep-2"]])
    hub.tag_build("wait-build", newer_build)
    parent = hub.make_task("build", [upload_srpm(hub, tool_user_srpm), "wait-target", {
        "scratch": True, "wait_builds": ["adjutant-dep-2.0-1"]}])
    wait_for(lambda: "waitrepo" in children(hub, parent)
             or hub.task(parent)["state_name"] in ("CLOSED", "FAILED"), 120,
             message="a waitrepo subtask")
    assert hub.task(parent)["state_name"] == "OPEN", worker.log()[-4000:]
    current = new_repo(hub, "wait-build")
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    [broot] = hub.buildroots(children(hub, parent)["noarch"]["id"])
    assert hub.buildroot(broot)["repo_id"] == current != stale


def no_binary_spec(name: str, extra: str = "") -> str:
    """A package whose only binary subpackage is for another arch: rpmbuild makes none."""
    return textwrap.dedent(f"""\
        Name: {name}
        Version: 1.0
        Release: 1
        Summary: nothing for this arch
        License: MIT
        {extra}

        %description
        Only a subpackage, for s390x.

        %package s390x-only
        Summary: s390x only

        %description s390x-only
        Only for s390x.

        %ifarch s390x
        %files s390x-only
        %endif
        """)


def test_the_srpm_a_build_keeps_is_checked_and_no_binary_rpm_is_no_error(
        hub: FakeHub, target: str, tmp_path: Path, start_worker: StartWorker) -> None:
    """kojid's rules: a build may make no binary RPM on an arch; the SRPM it keeps must
    carry the packager, vendor and distribution the build set, a spec must not clear them."""
    hub.add_package("f-dest", "no-binary")
    hub.add_package("f-dest", "no-vendor")
    empty = make_srpm(no_binary_spec("no-binary"), tmp_path / "no-binary")
    cleared = make_srpm(no_binary_spec("no-vendor", "%global vendor %{nil}"),
                        tmp_path / "no-vendor")
    parents = [hub.make_task("build", [upload_srpm(hub, srpm, f"cli-build/{i}.test"),
                                       target, {}])
               for i, srpm in enumerate((empty, cleared))]
    worker = start_worker()
    assert wait_task(hub, parents[0], timeout=240)["state_name"] == "CLOSED", \
        worker.log()[-4000:]
    assert hub.build("no-binary-1.0-1")["rpms"] == ["no-binary-1.0-1.src"]
    assert wait_task(hub, parents[1], timeout=240)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError,
                       match=re.escape("no-vendor-1.0-1.src.rpm has no vendor tag")):
        hub.task_result(parents[1])


def test_a_package_not_listed_in_the_destination_fails_the_build(
        hub: FakeHub, target: str, tmp_path: Path, start_worker: StartWorker) -> None:
    srpm = make_srpm(package_spec("unlisted"), tmp_path / "unlisted")
    parent = hub.make_task("build", [upload_srpm(hub, srpm), target, {}])
    start_worker()
    assert wait_task(hub, parent, timeout=240)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match="package unlisted is not listed in tag f-dest"):
        hub.task_result(parent)


def test_a_failing_arch_build_fails_the_build_record(
        hub: FakeHub, target: str, tmp_path: Path, start_worker: StartWorker) -> None:
    hub.add_package("f-dest", "breaks")
    srpm = make_srpm(package_spec("breaks", build_check="exit 3"), tmp_path / "breaks")
    parent = hub.make_task("build", [upload_srpm(hub, srpm), target, {}])
    start_worker()
    assert wait_task(hub, parent, timeout=240)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match="%build"):
        hub.task_result(parent)
    assert hub.build("breaks-1.0-1")["state"] == koji.BUILD_STATES["FAILED"]


def test_a_finished_build_is_mailed_with_its_tasks_rpms_and_changelog(
        hub: FakeHub, target: str, tool_user_srpm: Path, start_worker: StartWorker,
        mailbox: Mailbox) -> None:
    parent = hub.make_task("build", [upload_srpm(hub, tool_user_srpm), target, {}])
    worker = start_worker(kojid={"smtphost": mailbox.smtphost,
                                 "from_addr": "Koji <koji@build.example>"})
    assert wait_task(hub, parent, timeout=240)["state_name"] == "CLOSED", worker.log()[-4000:]
    session = hub.client()
    build = session.getBuild("tool-user-1.0-1")
    notice = hub.make_task("buildNotification", [
        ["owner@example.com"], build, session.getBuildTarget(target),
        "https://koji.example/koji"])
    assert wait_task(hub, notice)["state_name"] == "CLOSED", worker.log()[-4000:]
    assert hub.task_result(notice) == \
        f"sent notification of build {build['id']} to: owner@example.com"
    [(rcpt, mail)] = mailbox.received
    assert rcpt == ["owner@example.com"]
    assert mail["Subject"] == \
        "Package: tool-user-1.0-1 Tag: f-dest Status: complete Built by: kojiuser"
    assert (mail["X-Koji-Tag"], mail["X-Koji-Package"], mail["X-Koji-Status"]) == \
        ("f-dest", "tool-user", "complete")
    body = mail.get_content().replace("\r\n", "\n")
    # The changelog comes from the SRPM the hub imported.
    assert "Changelog:\n* Thu Nov 26 2026 koji-adjutant tests <tests@koji-adjutant.invalid>\n" \
        "- Test package tool-user.\n" in body
    arch_task = children(hub, parent)["noarch"]["id"]
    rpm_url = f"{hub.topurl}/packages/tool-user/1.0/1/noarch/tool-user-1.0-1.noarch.rpm"
    assert f"Task {arch_task} on builder1\nTask Type: buildArch" in body
    assert f"rpms:\n {rpm_url}\n" in body
    assert f"{hub.topurl}/packages/tool-user/1.0/1/data/logs/noarch/build.log" in body
    assert f"Build Info: https://koji.example/koji/buildinfo?buildID={build['id']}" in body
