"""Tags, targets, builds, policies and repos (protocol §7, §11 "Buildroots, builds, ...")."""

import json
from collections.abc import Callable
from pathlib import Path

import koji
import pytest
from conftest import Builder
from fakehub_helpers import raises_fault

from tests.support.fakehub import FakeHub

BUILD_DATA = {"name": "hello", "version": "1.0", "release": "1", "epoch": None}


def opened_task(hub: FakeHub, builder: Builder, method: str = "build") -> int:
    task_id = hub.make_task(method, ["src", "target"])
    assert builder.session.host.openTask(task_id) is not None
    return task_id


def put(hub: FakeHub, relpath: str, data: bytes = b"rpm") -> str:
    """Place a file under work/ as if uploaded; returns ``relpath``."""
    path = hub.work_path(relpath)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relpath


# -- tags and targets ------------------------------------------------------------------------


def test_build_config_merges_arches_and_extra_through_inheritance(hub: FakeHub) -> None:
    base = hub.add_tag("f40", arches="x86_64 aarch64", extra={"rpm.macro.dist": ".fc40",
                                                              "mock.new_chroot": 0})
    hub.add_tag("f40-build", arches=None, extra={"mock.new_chroot": 1}, parents=[base])
    config = hub.client().getBuildConfig("f40-build")
    assert config["arches"] == "x86_64 aarch64"
    assert config["extra"] == {"rpm.macro.dist": ".fc40", "mock.new_chroot": 1}
    assert config["config_inheritance"]["arches"] == {"id": base, "name": "f40"}
    assert hub.client().getTag("f40-build")["arches"] is None  # getTag does not inherit


def test_unknown_tag_is_1000_for_build_config_and_none_for_get_tag(hub: FakeHub) -> None:
    with raises_fault(1000):
        hub.client().getBuildConfig("nope")
    assert hub.client().getTag("nope") is None


def test_build_target_and_package_config(hub: FakeHub) -> None:
    hub.add_tag("f40")
    hub.add_tag("f40-build", parents=["f40"])
    hub.add_target("f40-candidate", "f40-build", "f40")
    hub.add_package("f40", "hello")
    hub.add_package("f40", "evil", blocked=True)
    session = hub.client()
    target = session.getBuildTarget("f40-candidate")
    assert (target["build_tag_name"], target["dest_tag_name"]) == ("f40-build", "f40")
    assert session.getBuildTarget("nope") is None
    assert session.getPackageConfig("f40", "hello")["blocked"] is False
    assert session.getPackageConfig("f40", "evil")["blocked"] is True
    assert session.getPackageConfig("f40", "unlisted") is None


def test_small_answers_the_build_task_needs(hub: FakeHub) -> None:
    hub.add_tag("f40-build")
    session = hub.client()
    assert session.getExternalRepoList("f40-build") == []
    assert session.getAverageBuildDuration("hello", age=6) is None
    task_id = hub.make_task("build", [])
    hub.add_build("hello", "1", "1", duration=100.0, task_id=task_id)
    hub.add_build("hello", "1", "2", duration=300.0, task_id=task_id)
    hub.add_build("hello", "1", "3", duration=9000.0)  # an import: no task
    assert session.getAverageBuildDuration("hello") == 200.0
    hub.advance_clock(7 * 30 * 86400)
    assert session.getAverageBuildDuration("hello", age=6) is None  # months, as the hub's
    assert session.getAverageBuildDuration("hello", age=8) == 200.0
    first = session.getLastEvent()
    hub.add_tag("f41-build")
    assert session.getLastEvent()["id"] > first["id"]


# -- initBuild / completeBuild / failBuild ---------------------------------------------------


def test_init_build_creates_a_building_build_and_is_idempotent_per_task(
    hub: FakeHub, builder: Builder
) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    assert builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id}) == build_id
    info = builder.session.getBuild("hello-1.0-1")
    assert (info["id"], info["state"], info["task_id"]) == (
        build_id, koji.BUILD_STATES["BUILDING"], task_id)


def test_init_build_of_an_nvr_building_under_another_task_is_1000(
    hub: FakeHub, builder: Builder
) -> None:
    first = opened_task(hub, builder)
    builder.session.host.initBuild({**BUILD_DATA, "task_id": first})
    second = opened_task(hub, builder)
    with raises_fault(1000) as info:
        builder.session.host.initBuild({**BUILD_DATA, "task_id": second})
    assert "already in progress" in str(info.value)


def test_init_build_of_a_complete_nvr_is_1000(hub: FakeHub, builder: Builder) -> None:
    hub.add_build("hello", "1.0", "1")
    task_id = opened_task(hub, builder)
    with raises_fault(1000) as info:
        builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    assert "Build already exists" in str(info.value)


def test_init_build_recycles_a_failed_build(hub: FakeHub, builder: Builder) -> None:
    old = hub.add_build("hello", "1.0", "1", state=koji.BUILD_STATES["FAILED"])
    task_id = opened_task(hub, builder)
    assert builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id}) == old
    assert hub.build(old)["state"] == koji.BUILD_STATES["BUILDING"]


def test_complete_build_imports_files_from_work(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    srpm = put(hub, "tasks/3/3/hello-1.0-1.src.rpm")
    rpm = put(hub, "tasks/4/4/hello-1.0-1.noarch.rpm")
    dup = put(hub, "tasks/5/5/hello-1.0-1.noarch.rpm")  # same noarch rpm from another arch
    log = put(hub, "tasks/4/4/build.log", b"log")
    info = builder.session.host.completeBuild(task_id, build_id, srpm, [rpm, dup],
                                              {srpm: None, rpm: None}, {"noarch": [log]})
    assert info["state"] == koji.BUILD_STATES["COMPLETE"]
    build_dir = hub.topdir / "packages/hello/1.0/1"
    assert (build_dir / "noarch/hello-1.0-1.noarch.rpm").read_bytes() == b"rpm"
    assert (build_dir / "src/hello-1.0-1.src.rpm").exists()
    assert (build_dir / "data/logs/noarch/build.log").read_bytes() == b"log"
    assert sorted(r["arch"] for r in builder.session.listRPMs(buildID=build_id)) == [
        "noarch", "src"]
    assert hub.history.build_states(build_id) == ["BUILDING", "COMPLETE"]


def test_complete_build_with_a_file_missing_from_work_is_1000(
    hub: FakeHub, builder: Builder
) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    srpm = put(hub, "tasks/3/3/hello-1.0-1.src.rpm")
    with raises_fault(1000) as info:
        builder.session.host.completeBuild(task_id, build_id, srpm,
                                           ["tasks/4/4/hello-1.0-1.x86_64.rpm"])
    assert "No such file" in str(info.value)
    assert hub.build(build_id)["state"] == koji.BUILD_STATES["BUILDING"]


def test_complete_build_with_a_foreign_srpm_is_1000(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    srpm = put(hub, "tasks/3/3/other-2.0-1.src.rpm")
    with raises_fault(1000):
        builder.session.host.completeBuild(task_id, build_id, srpm, [])


def test_a_draft_build_gets_a_draft_release_and_imports_files_of_its_target_release(
        hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id,
                                               "draft": True})
    info = builder.session.getBuild(build_id)
    assert (info["release"], info["draft"]) == (f"1,draft_{build_id}", True)
    srpm = put(hub, "tasks/3/3/hello-1.0-1.src.rpm")
    rpm = put(hub, "tasks/4/4/hello-1.0-1.noarch.rpm")
    builder.session.host.completeBuild(task_id, build_id, srpm, [rpm])
    assert (hub.topdir / f"packages/hello/1.0/1,draft_{build_id}/noarch/"
            "hello-1.0-1.noarch.rpm").exists()
    assert {r["draft"] for r in builder.session.listRPMs(buildID=build_id)} == {True}
    # a second draft of the same N-V-R is a build of its own
    second = opened_task(hub, builder)
    assert builder.session.host.initBuild({**BUILD_DATA, "task_id": second,
                                           "draft": True}) != build_id


def test_a_draft_of_an_existing_nvr_is_1000(hub: FakeHub, builder: Builder) -> None:
    hub.add_build("hello", "1.0", "1", state=koji.BUILD_STATES["FAILED"])
    task_id = opened_task(hub, builder)
    with raises_fault(1000) as info:
        builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id, "draft": True})
    assert "Target build already exists: hello-1.0-1" in str(info.value)


def test_fail_build_only_from_building(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    builder.session.host.failBuild(task_id, build_id)
    assert hub.build(build_id)["state"] == koji.BUILD_STATES["FAILED"]
    with raises_fault(1000):
        builder.session.host.failBuild(task_id, build_id)


def test_canceling_the_task_cancels_its_building_build(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    build_id = builder.session.host.initBuild({**BUILD_DATA, "task_id": task_id})
    hub.cancel_task(task_id)
    assert hub.build(build_id)["state"] == koji.BUILD_STATES["CANCELED"]


def test_move_build_to_scratch(hub: FakeHub, builder: Builder) -> None:
    hub.add_user("alice")
    task_id = hub.make_task("build", ["src", "t", {"scratch": True}], owner="alice")
    builder.session.host.openTask(task_id)
    srpm = put(hub, "tasks/3/3/hello-1.0-1.src.rpm")
    rpm = put(hub, "tasks/4/4/hello-1.0-1.x86_64.rpm")
    log = put(hub, "tasks/4/4/build.log")
    with raises_fault(1000):
        builder.session.host.moveBuildToScratch(task_id, srpm, [rpm, "tasks/4/4/gone.rpm"])
    builder.session.host.moveBuildToScratch(task_id, srpm, [rpm], logs={"x86_64": [log]})
    dest = hub.topdir / f"scratch/alice/task_{task_id}"
    assert sorted(p.name for p in dest.iterdir()) == [
        "hello-1.0-1.src.rpm", "hello-1.0-1.x86_64.rpm", "logs"]
    assert (dest / "logs/x86_64/build.log").exists()


@pytest.mark.parametrize("call", [
    lambda s, t, b: s.host.initBuild({**BUILD_DATA, "task_id": t}),
    lambda s, t, b: s.host.completeBuild(t, b, "x.src.rpm", []),
    lambda s, t, b: s.host.failBuild(t, b),
    lambda s, t, b: s.host.moveBuildToScratch(t, "x.src.rpm", []),
    lambda s, t, b: s.host.tagBuild(t, "f40", b),
], ids=["initBuild", "completeBuild", "failBuild", "moveBuildToScratch", "tagBuild"])
def test_build_calls_need_an_owned_task(
    hub: FakeHub, make_builder: Callable[..., Builder],
    call: Callable[[koji.ClientSession, int, int], object],
) -> None:
    me, other = make_builder(), make_builder()
    hub.add_tag("f40")
    build_id = hub.add_build("hello", "1.0", "1")
    theirs = opened_task(hub, other)
    with raises_fault(1004) as info:
        call(me.session, theirs, build_id)
    assert str(info.value) == f"host {me.host_id} does not own task {theirs}"


# -- policies and tagging --------------------------------------------------------------------


def test_assert_policy_allows_by_default_and_denies_when_configured(
    hub: FakeHub, builder: Builder
) -> None:
    data = {"user_id": 1, "source": "x.src.rpm", "scratch": False}
    builder.session.host.assertPolicy("build_from_srpm", data)
    hub.set_policy("build_from_srpm", False, reason="Only admin can do this via default policy")
    with raises_fault(1004) as info:
        builder.session.host.assertPolicy("build_from_srpm", data)
    assert str(info.value) == ("policy violation (build_from_srpm): "
                               "Only admin can do this via default policy")
    hub.set_policy("build_rpm", lambda d: bool(d.get("scratch")))
    builder.session.host.assertPolicy("build_rpm", {**data, "scratch": True})
    with raises_fault(1004):
        builder.session.host.assertPolicy("build_rpm", data)


def test_tag_build_rules(hub: FakeHub, builder: Builder) -> None:
    hub.add_tag("f40")
    build_id = hub.add_build("hello", "1.0", "1")
    task_id = opened_task(hub, builder, "tagBuild")
    with raises_fault(1003) as info:
        builder.session.host.tagBuild(task_id, "f40", build_id)
    assert "not in list" in str(info.value)
    hub.add_package("f40", "hello", blocked=True)
    with raises_fault(1003):
        builder.session.host.tagBuild(task_id, "f40", build_id)
    hub.add_package("f40", "hello")
    hub.set_policy("tag", False, reason="frozen")
    with raises_fault(1004):
        builder.session.host.tagBuild(task_id, "f40", build_id)
    hub.set_policy("tag", True)
    builder.session.host.tagBuild(task_id, "f40", build_id, False, None)
    assert hub.tagged("f40") == ["hello-1.0-1"]
    assert [b["nvr"] for b in builder.session.listTagged("f40")] == ["hello-1.0-1"]


# -- repos -----------------------------------------------------------------------------------


def test_tag_last_change_event_follows_tagging_through_inheritance(hub: FakeHub) -> None:
    client = hub.client()
    hub.add_tag("f40")
    hub.add_tag("f40-build", parents=["f40"])
    created = client.tagLastChangeEvent("f40-build")
    hub.add_package("f40", "hello")
    hub.tag_build("f40", hub.add_build("hello", "1.0", "1"))
    tagged = client.tagLastChangeEvent("f40-build")
    assert tagged > created
    assert client.tagLastChangeEvent("f40-build", inherit=False) == created
    with raises_fault(1019):  # ParameterError: the fake keeps no tag history
        client.tagLastChangeEvent("f40-build", before=tagged)


def test_tag_first_change_event_is_its_creation_or_the_first_change_after(
        hub: FakeHub) -> None:
    client = hub.client()
    hub.add_tag("f40")
    created = client.tagFirstChangeEvent("f40")
    hub.add_package("f40", "hello")
    hub.tag_build("f40", hub.add_build("hello", "1.0", "1"))
    tagged = client.tagLastChangeEvent("f40")
    assert client.tagFirstChangeEvent("f40", after=created) == tagged > created
    assert client.tagFirstChangeEvent("f40", after=tagged) is None


def test_get_repo_and_repo_info(hub: FakeHub) -> None:
    hub.add_tag("f40-build")
    old = hub.add_repo("f40-build")
    new = hub.add_repo("f40-build")
    hub.add_repo("f40-build", state=koji.REPO_STATES["INIT"])
    session = hub.client()
    assert session.getRepo("f40-build")["id"] == new
    info = session.repoInfo(old)
    assert info["state"] == koji.REPO_STATES["READY"] and info["tag_name"] == "f40-build"
    assert hub.repo_path(new) == hub.topdir / f"repos/f40-build/{new}"
    assert hub.repo_path(new).is_dir()
    assert session.repoInfo(999) is None
    with raises_fault(1000):
        session.repoInfo(999, strict=True)


def test_repo_request_answers_the_current_repo(hub: FakeHub, builder: Builder) -> None:
    hub.add_tag("f40-build")
    assert builder.session.repo.request("f40-build") == {
        "repo": None, "request": None, "duplicate": False}
    repo_id = hub.add_repo("f40-build")
    answer = builder.session.repo.request("f40-build", min_event=None, at_event=None, opts=None)
    assert answer["repo"]["id"] == repo_id
    with raises_fault(1004):
        hub.client().repo.request("f40-build")  # needs a login


def test_repo_init_writes_the_repo_directory(hub: FakeHub, builder: Builder) -> None:
    hub.add_tag("f40-build", arches="x86_64 i686", groups={"build": ["bash", "rpm-build"]})
    build_id = hub.add_build("hello", "1.0", "1")
    hub.add_rpm("hello", "1.0", "1", "noarch", build_id=build_id)
    hub.add_rpm("hello", "1.0", "1", "src", build_id=build_id)
    hub.tag_build("f40-build", build_id)
    task_id = opened_task(hub, builder, "newRepo")
    repo_id, event_id = builder.session.host.repoInit("f40-build", task_id=task_id)
    assert builder.session.repoInfo(repo_id)["state"] == koji.REPO_STATES["INIT"]
    assert builder.session.repoInfo(repo_id)["create_event"] == event_id
    rdir = hub.repo_path(repo_id)
    assert json.loads((rdir / "repo.json").read_text())["tag"] == "f40-build"
    assert "<packagereq type=\"mandatory\">rpm-build</packagereq>" in (
        rdir / "groups/comps.xml").read_text()
    for arch in ("x86_64", "i386"):
        assert (rdir / arch / "pkglist").read_text() == (
            "toplink/packages/hello/1.0/1/noarch/hello-1.0-1.noarch.rpm\n")
        assert json.loads((rdir / arch / "rpmlist.jsonl").read_text())["name"] == "hello"
        assert (rdir / arch / "toplink").resolve() == hub.topdir.resolve()
        assert (rdir / arch / "blocklist").read_text() == ""


def _repo_in_init(hub: FakeHub, builder: Builder) -> tuple[int, Path]:
    hub.add_tag("f40-build", arches="x86_64")
    task_id = opened_task(hub, builder, "newRepo")
    repo_id, _event = builder.session.host.repoInit("f40-build", task_id=task_id)
    return repo_id, hub.repo_path(repo_id)


def test_repo_done_moves_repodata_and_marks_ready(hub: FakeHub, builder: Builder) -> None:
    repo_id, rdir = _repo_in_init(hub, builder)
    put(hub, "tasks/9/9/repomd.xml", b"<repomd/>")
    put(hub, "tasks/9/9/primary.xml.gz", b"gz")
    builder.session.host.repoDone(repo_id, {"x86_64": ["tasks/9/9",
                                                       ["repomd.xml", "primary.xml.gz"]]})
    assert (rdir / "x86_64/repodata/repomd.xml").read_bytes() == b"<repomd/>"
    assert builder.session.repoInfo(repo_id)["state"] == koji.REPO_STATES["READY"]
    assert (rdir.parent / "latest").resolve() == rdir.resolve()
    assert hub.history.repo_states(repo_id) == ["INIT", "READY"]


def test_repo_done_with_a_missing_upload_is_1000(hub: FakeHub, builder: Builder) -> None:
    repo_id, rdir = _repo_in_init(hub, builder)
    put(hub, "tasks/9/9/repomd.xml")
    with raises_fault(1000) as info:
        builder.session.host.repoDone(repo_id, {"x86_64": ["tasks/9/9",
                                                           ["repomd.xml", "gone.xml"]]})
    assert "uploaded file missing" in str(info.value)
    assert not (rdir / "x86_64/repodata/repomd.xml").exists()  # nothing moved
    assert builder.session.repoInfo(repo_id)["state"] == koji.REPO_STATES["INIT"]


def test_repo_done_on_a_repo_not_in_init_is_1000(hub: FakeHub, builder: Builder) -> None:
    hub.add_tag("f40-build")
    repo_id = hub.add_repo("f40-build")  # READY
    with raises_fault(1000) as info:
        builder.session.host.repoDone(repo_id, {})
    assert "not in INIT state" in str(info.value)
