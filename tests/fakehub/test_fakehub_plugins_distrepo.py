"""The hub plugins' task calls (``runroot``, ``saveFailedTree``) and dist repos
(``distRepo``, ``listTaggedRPMS``, ``host.distRepoMove``, dist ``repoDone``)."""

import json
from pathlib import Path

import koji
import pytest
from conftest import Builder
from fakehub_helpers import raises_fault

from tests.support.fakehub import FakeHub

PW = "pw"


def user(hub: FakeHub, name: str, *perms: str) -> koji.ClientSession:
    hub.add_user(name, PW, perms=perms)
    return hub.client(name, PW)


# -- runroot ---------------------------------------------------------------------------------


def test_runroot_needs_the_runroot_permission(hub: FakeHub) -> None:
    hub.add_tag("f-build")
    hub.add_channel("runroot")
    with raises_fault(1004):
        user(hub, "alice").runroot("f-build", "x86_64", "true")


def test_runroot_makes_a_task_in_the_runroot_channel(hub: FakeHub) -> None:
    hub.add_tag("f-build")
    hub.add_channel("runroot")
    session = user(hub, "alice", "runroot")
    task_id = session.runroot("f-build", "x86_64", ["echo", "hi"], packages=["tar"])
    task = hub.task(task_id)
    assert (task["method"], task["arch"], task["priority"]) == ("runroot", "x86_64", 15)
    assert task["channel_id"] == session.getChannel("runroot")["id"]
    assert task["request"] == ["f-build", "x86_64", ["echo", "hi"],
                               {"packages": ["tar"], "__starstar": True}]


@pytest.mark.parametrize(("args", "why"), [
    (("f-build", "x86_64", 42), "command neither string nor list"),
    (("f-build", "x86/64", "true"), "an arch name with a bad character"),
    (("nope", "x86_64", "true"), "unknown tag"),
])
def test_runroot_refuses_bad_arguments_with_1000(hub: FakeHub, args: tuple[object, ...],
                                                 why: str) -> None:
    hub.add_tag("f-build")
    hub.add_channel("runroot")
    with raises_fault(1000):
        user(hub, "alice", "runroot").runroot(*args)


def test_runroot_without_a_runroot_channel_is_1000(hub: FakeHub) -> None:
    hub.add_tag("f-build")
    with raises_fault(1000):
        user(hub, "alice", "runroot").runroot("f-build", "x86_64", "true")


def test_noarch_runroot_gets_an_arch_of_the_tag_the_channel_has(hub: FakeHub) -> None:
    hub.add_tag("f-build", arches="aarch64 x86_64")
    hub.add_host("b1", arches=["x86_64", "i686"], channels=["runroot"])
    task_id = user(hub, "alice", "runroot").runroot("f-build", "noarch", "true")
    assert hub.task(task_id)["arch"] == "x86_64"


# -- saveFailedTree --------------------------------------------------------------------------


def failed_buildroot(hub: FakeHub, builder: Builder, method: str = "buildArch",
                     owner: str | None = None, fail: bool = True) -> int:
    task_id = hub.make_task(method, [], owner=owner)
    builder.session.host.openTask(task_id)
    repo_id = hub.add_repo(hub.add_tag(f"build-{task_id}"))
    br = builder.session.host.newBuildRoot(repo_id, "x86_64", task_id)
    if fail:
        builder.session.host.failTask(task_id, "<fault/>")
    return int(br)


def test_save_failed_tree_assigns_a_task_to_the_buildroots_host(
        hub: FakeHub, builder: Builder) -> None:
    hub.add_user("alice", PW)
    br = failed_buildroot(hub, builder, owner="alice")
    task_id = hub.client("alice", PW).saveFailedTree(br, True)
    task = hub.task(task_id)
    assert (task["method"], task["state_name"], task["host_id"]) == (
        "saveFailedTree", "ASSIGNED", builder.host_id)
    assert task["request"] == [br, True]


def test_save_failed_tree_of_an_unknown_buildroot_is_1000(hub: FakeHub) -> None:
    with raises_fault(1000):
        user(hub, "alice").saveFailedTree(99)


def test_save_failed_tree_needs_a_failed_task_of_an_allowed_method(
        hub: FakeHub, builder: Builder) -> None:
    session = user(hub, "alice", "admin")
    with raises_fault(1010):
        session.saveFailedTree(failed_buildroot(hub, builder, fail=False))
    with raises_fault(1010):
        session.saveFailedTree(failed_buildroot(hub, builder, method="createrepo"))
    hub.config.SaveFailedTreeAllowedMethods = "*"
    assert session.saveFailedTree(failed_buildroot(hub, builder, method="createrepo"))


def test_save_failed_tree_only_by_the_owner_or_an_admin(hub: FakeHub, builder: Builder) -> None:
    hub.add_user("alice", PW)
    br = failed_buildroot(hub, builder, owner="alice")
    with raises_fault(1004):
        user(hub, "mallory").saveFailedTree(br)
    assert user(hub, "root", "admin").saveFailedTree(br)


def test_save_failed_tree_on_a_disabled_host_is_1010(hub: FakeHub, builder: Builder) -> None:
    br = failed_buildroot(hub, builder)
    with hub.core.lock:
        hub.core.db.hosts[builder.host_id].enabled = False
    with raises_fault(1010):
        user(hub, "root", "admin").saveFailedTree(br)


# -- distRepo and listTaggedRPMS -------------------------------------------------------------


def tagged_rpm(hub: FakeHub, tag: str, name: str, arch: str = "noarch") -> tuple[int, int]:
    build_id = hub.add_build(name, "1.0", "1")
    hub.tag_build(tag, build_id)
    return build_id, hub.add_rpm(name, "1.0", "1", arch, build_id=build_id)


def test_dist_repo_needs_the_permission_or_the_policy(hub: FakeHub) -> None:
    hub.add_tag("f-dist")
    hub.set_policy("dist_repo", False, "no dist repos here")
    with raises_fault(1004):
        user(hub, "alice").distRepo("f-dist", [], arch=["x86_64"])
    assert user(hub, "bob", "dist-repo").distRepo("f-dist", [], arch=["x86_64"])


def test_dist_repo_makes_an_init_dist_repo_and_its_task(hub: FakeHub) -> None:
    hub.add_tag("f-dist", arches="x86_64 i686")
    comps = hub.work_path("cli-build/1/comps.xml")
    comps.parent.mkdir(parents=True)
    comps.write_text("<comps/>")
    session = user(hub, "alice", "dist-repo")
    task_id = session.distRepo("f-dist", ["ABCD1234"], arch=["x86_64", "i686"],
                               comps="cli-build/1/comps.xml", inherit=True)
    task = hub.task(task_id)
    tag, repo_id, keys, opts = task["request"]
    assert (task["method"], task["priority"]) == ("distRepo", 15)
    assert task["channel_id"] == session.getChannel("createrepo")["id"]
    assert (tag, keys, opts["inherit"]) == ("f-dist", ["ABCD1234"], True)
    repo = session.repoInfo(repo_id)
    assert (repo["dist"], repo["state"], repo["create_event"]) == (
        True, koji.REPO_INIT, opts["event"])
    path = hub.topdir / "repos-dist" / "f-dist" / str(repo_id)
    assert sorted(p.name for p in path.iterdir()) == ["groups", "i386", "repo.json", "x86_64"]
    assert (path / "groups" / "comps.xml").read_text() == "<comps/>"
    assert json.loads((path / "repo.json").read_text())["keys"] == ["ABCD1234"]


@pytest.mark.parametrize(("keys", "opts", "code"), [
    ("ABCD", {"arch": ["x86_64"]}, 1019),
    ([], {}, 1000),
    ([], {"arch": ["x86_64"], "comps": "cli-build/none.xml"}, 1000),
])
def test_dist_repo_refuses_bad_arguments(hub: FakeHub, keys: object, opts: dict[str, object],
                                         code: int) -> None:
    hub.add_tag("f-dist")
    with raises_fault(code):
        user(hub, "alice", "dist-repo").distRepo("f-dist", keys, **opts)
    assert not list((hub.topdir / "repos-dist").glob("*/*"))


def test_list_tagged_rpms_gives_one_row_per_signature(hub: FakeHub) -> None:
    hub.add_tag("f-dist")
    _b1, signed = tagged_rpm(hub, "f-dist", "one")
    tagged_rpm(hub, "f-dist", "two", arch="x86_64")
    hub.add_rpm_sig(signed, "ABCD1234")
    rpms, builds = hub.client().listTaggedRPMS("f-dist", rpmsigs=True, latest=True)
    assert sorted((r["name"], r["sigkey"]) for r in rpms) == [
        ("one", ""), ("one", "abcd1234"), ("two", "")]
    assert sorted(b["nvr"] for b in builds) == ["one-1.0-1", "two-1.0-1"]
    rpms, _ = hub.client().listTaggedRPMS("f-dist", arch=["noarch"])
    assert [r["name"] for r in rpms] == ["one"] and "sigkey" not in rpms[0]


# -- host.distRepoMove and repoDone of a dist repo -------------------------------------------


def dist_setup(hub: FakeHub, builder: Builder) -> tuple[int, str, dict[str, dict[str, object]]]:
    """A dist repo in INIT with one signed noarch rpm on disk, and an upload dir holding
    repodata, kojipkgs and repo_manifest for x86_64 → (repo_id, uploadpath, kojipkgs)."""
    hub.add_tag("f-dist")
    task_id = user(hub, "alice", "dist-repo").distRepo("f-dist", [], arch=["x86_64"])
    repo_id = hub.task(task_id)["request"][1]
    _build_id, rpm_id = tagged_rpm(hub, "f-dist", "one")
    hub.add_rpm_sig(rpm_id, "abcd1234")
    rpms, _ = hub.client().listTaggedRPMS("f-dist", rpmsigs=True)
    entry = next(r for r in rpms if r["sigkey"] == "abcd1234")
    signed = hub.topdir / "packages/one/1.0/1" / koji.pathinfo.signed(entry, "abcd1234")
    signed.parent.mkdir(parents=True)
    signed.write_bytes(b"signed rpm")
    uploadpath = "tasks/1/1"
    updir = hub.work_path(uploadpath)
    (updir / "repodata").mkdir(parents=True)
    (updir / "repodata" / "repomd.xml").write_text("<repomd/>")
    kojipkgs = {"one-1.0-1.noarch.rpm": entry}
    (updir / "kojipkgs").write_text(json.dumps(kojipkgs))
    (updir / "repo_manifest").write_text(json.dumps(["repodata/repomd.xml", "kojipkgs"]))
    return repo_id, uploadpath, kojipkgs


def test_dist_repo_move_puts_the_files_and_links_the_signed_copy(
        hub: FakeHub, builder: Builder) -> None:
    repo_id, uploadpath, _ = dist_setup(hub, builder)
    builder.session.host.distRepoMove(repo_id, uploadpath, "x86_64")
    archdir = hub.repo_path(repo_id) / "x86_64"
    assert (archdir / "repodata" / "repomd.xml").read_text() == "<repomd/>"
    linked = archdir / "Packages" / "o" / "one-1.0-1.noarch.rpm"
    assert linked.read_bytes() == b"signed rpm" and linked.stat().st_nlink == 2
    builder.session.host.repoDone(repo_id, {})
    assert hub.repo(repo_id)["state"] == koji.REPO_READY
    assert hub.client().getRepo("f-dist", dist=True)["id"] == repo_id
    assert hub.client().getRepo("f-dist") is None


@pytest.mark.parametrize("breakage", ["state", "manifest", "kojipkgs", "entry", "file", "arch"])
def test_dist_repo_move_checks_before_it_moves_anything(
        hub: FakeHub, builder: Builder, breakage: str) -> None:
    repo_id, uploadpath, kojipkgs = dist_setup(hub, builder)
    updir: Path = hub.work_path(uploadpath)
    arch = "x86_64"
    if breakage == "state":
        hub.set_repo_state(repo_id, koji.REPO_READY)
    elif breakage in ("manifest", "kojipkgs"):
        (updir / ("repo_manifest" if breakage == "manifest" else "kojipkgs")).unlink()
    elif breakage == "entry":
        kojipkgs["one-1.0-1.noarch.rpm"]["size"] = 1
        (updir / "kojipkgs").write_text(json.dumps(kojipkgs))
    elif breakage == "file":
        (updir / "repodata" / "repomd.xml").unlink()
    else:
        arch = "s390x"
    with raises_fault(1000):
        builder.session.host.distRepoMove(repo_id, uploadpath, arch)
    assert not (hub.repo_path(repo_id) / "x86_64" / "Packages").exists()


def test_dist_repo_move_needs_the_locked_host(hub: FakeHub, builder: Builder) -> None:
    repo_id, uploadpath, _ = dist_setup(hub, builder)
    with raises_fault(1002):
        user(hub, "bob", "admin").host.distRepoMove(repo_id, uploadpath, "x86_64")


# -- host.writeSignedRPM (distRepo's --write-signed-rpms) -------------------------------------


def unsigned_on_disk(hub: FakeHub, name: str = "one") -> tuple[int, Path]:
    """A tagged noarch rpm whose unsigned file is on disk → (rpm id, its path)."""
    hub.add_tag("f-dist")
    _build_id, rpm_id = tagged_rpm(hub, "f-dist", name)
    path = hub.topdir / f"packages/{name}/1.0/1/noarch/{name}-1.0-1.noarch.rpm"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not read before the checks pass")
    return rpm_id, path


def test_write_signed_rpm_needs_the_hubs_record_of_that_signature(
        hub: FakeHub, builder: Builder) -> None:
    rpm_id, _path = unsigned_on_disk(hub)
    with raises_fault(1000) as info:
        builder.session.host.writeSignedRPM(rpm_id, "ABCD1234")
    assert "No cached signature for package one-1.0-1.noarch, key abcd1234" in str(info.value)


@pytest.mark.parametrize("breakage", ["no rpm", "no file", "a link", "external"])
def test_write_signed_rpm_checks_the_rpm_and_its_file(
        hub: FakeHub, builder: Builder, breakage: str, tmp_path: Path) -> None:
    rpm_id, path = unsigned_on_disk(hub)
    hub.add_rpm_sig(rpm_id, "abcd1234", b"header")
    if breakage == "no rpm":
        rpm_id = 9999
    elif breakage == "no file":
        path.unlink()
    elif breakage == "a link":
        path.unlink()
        (tmp_path / "elsewhere.rpm").write_bytes(b"x")
        path.symlink_to(tmp_path / "elsewhere.rpm")
    else:
        hub.add_external_repo("upstream", "http://example.invalid/repo/")
        rpm_id = hub.add_rpm("ext", "1.0", "1", "noarch", external_repo="upstream")
    with raises_fault(1000):
        builder.session.host.writeSignedRPM(rpm_id, "abcd1234")


def test_write_signed_rpm_leaves_a_signed_copy_that_is_there(
        hub: FakeHub, builder: Builder) -> None:
    rpm_id, _path = unsigned_on_disk(hub)
    hub.add_rpm_sig(rpm_id, "abcd1234", b"header")
    rpms, _ = hub.client().listTaggedRPMS("f-dist", rpmsigs=True)
    entry = next(r for r in rpms if r["sigkey"] == "abcd1234")
    signed = hub.topdir / "packages/one/1.0/1" / koji.pathinfo.signed(entry, "abcd1234")
    signed.parent.mkdir(parents=True)
    signed.write_bytes(b"signed before")
    assert builder.session.host.writeSignedRPM(rpm_id, "abcd1234") is None
    assert signed.read_bytes() == b"signed before"


def test_write_signed_rpm_is_a_host_call(hub: FakeHub) -> None:
    rpm_id, _path = unsigned_on_disk(hub)
    hub.add_rpm_sig(rpm_id, "abcd1234", b"header")
    with raises_fault(1002):
        user(hub, "alice", "admin").host.writeSignedRPM(rpm_id, "abcd1234")
