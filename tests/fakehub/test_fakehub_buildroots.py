"""Buildroot bookkeeping and rpm lists (protocol §6)."""

from collections.abc import Callable

import koji
import pytest
from conftest import Builder
from fakehub_helpers import raises_fault

from tests.support.fakehub import FakeHub

EXPIRED = koji.BR_STATES["EXPIRED"]


def setup_buildroot(hub: FakeHub, builder: Builder) -> tuple[int, int]:
    """An OPEN task of ``builder`` and a buildroot for it → (task_id, brootid)."""
    task_id = hub.make_task("buildArch", [])
    builder.session.host.openTask(task_id)
    repo_id = hub.add_repo(hub.add_tag(f"build-{task_id}"))
    return task_id, builder.session.host.newBuildRoot(repo_id, "x86_64", task_id)


def external_entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "bash", "version": "5.2", "release": "1", "epoch": None, "arch": "x86_64",
        "payloadhash": "0" * 32, "size": 100, "buildtime": 1700000000,
        "external_repo": "container-base", "location": "container-base",
    }
    entry.update(changes)
    return entry


# -- creating and owning buildroots --------------------------------------------------------


def test_new_buildroot_is_init_and_tied_to_host_repo_and_task(
    hub: FakeHub, builder: Builder
) -> None:
    task_id, br = setup_buildroot(hub, builder)
    info = builder.session.getBuildroot(br)
    assert (info["state"], info["host_id"], info["task_id"]) == (
        koji.BR_STATES["INIT"], builder.host_id, task_id)
    assert (info["container_type"], info["container_arch"], info["arch"]) == (
        "chroot", "x86_64", "x86_64")
    assert info["tag_name"] == f"build-{task_id}"


def test_new_buildroot_without_task_id_is_fault_1(hub: FakeHub, builder: Builder) -> None:
    repo_id = hub.add_repo(hub.add_tag("build"))
    with raises_fault(1):
        builder.session.host.newBuildRoot(repo_id, "x86_64")


def test_new_buildroot_for_a_task_not_owned_is_1004(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    theirs = hub.make_task("buildArch", [])
    other.session.host.openTask(theirs)
    repo_id = hub.add_repo(hub.add_tag("build"))
    with raises_fault(1004):
        me.session.host.newBuildRoot(repo_id, "x86_64", theirs)


def test_new_buildroot_does_not_take_a_ctype(hub: FakeHub, builder: Builder) -> None:
    task_id = hub.make_task("buildArch", [])
    builder.session.host.openTask(task_id)
    repo_id = hub.add_repo(hub.add_tag("build"))
    with raises_fault(1019):
        builder.session.host.newBuildRoot(repo_id, "x86_64", task_id, ctype="container")


@pytest.mark.parametrize("call", [
    lambda s, br: s.host.setBuildRootState(br, "BUILDING"),
    lambda s, br: s.host.setBuildRootList(br, []),
    lambda s, br: s.host.updateBuildRootList(br, []),
], ids=["setBuildRootState", "setBuildRootList", "updateBuildRootList"])
def test_buildroot_of_another_host_is_1004(
    hub: FakeHub, make_builder: Callable[..., Builder],
    call: Callable[[koji.ClientSession, int], object],
) -> None:
    me, other = make_builder(), make_builder()
    _task, br = setup_buildroot(hub, other)
    with raises_fault(1004) as info:
        call(me.session, br)
    assert str(info.value) == f"Host {me.host_id} not owner of buildroot {br}"


def test_task_id_must_be_the_buildroots_task(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    other_task = hub.make_task("buildArch", [])
    builder.session.host.openTask(other_task)
    with raises_fault(1004) as info:
        builder.session.host.setBuildRootState(br, "BUILDING", task_id=other_task)
    assert str(info.value) == f"Task {other_task} does not have lock on buildroot {br}"


def test_buildroot_calls_with_task_id_of_a_canceled_task_are_1004(
    hub: FakeHub, builder: Builder
) -> None:
    task_id, br = setup_buildroot(hub, builder)
    hub.cancel_task(task_id)
    with raises_fault(1004):
        builder.session.host.setBuildRootState(br, "EXPIRED", task_id=task_id)
    builder.session.host.setBuildRootState(br, "EXPIRED")  # without task_id it is fine


def test_unknown_buildroot_is_1000(builder: Builder) -> None:
    with raises_fault(1000):
        builder.session.host.setBuildRootState(999, "BUILDING")


# -- states ----------------------------------------------------------------------------------


def test_buildroot_life_cycle_by_name_and_number(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    builder.session.host.setBuildRootList(br, [])
    builder.session.host.setBuildRootState(br, koji.BR_STATES["BUILDING"])
    builder.session.host.updateBuildRootList(br, [])
    builder.session.host.setBuildRootState(br, "EXPIRED")
    assert hub.history.buildroot_states(br) == ["INIT", "BUILDING", "EXPIRED"]
    assert builder.session.getBuildroot(br)["retire_event_id"] is not None


def test_set_list_only_in_init(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    builder.session.host.setBuildRootState(br, "BUILDING")
    with raises_fault(1000) as info:
        builder.session.host.setBuildRootList(br, [])
    assert f"buildroot {br} in wrong state" in str(info.value)


def test_update_list_only_in_building(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    with raises_fault(1000):
        builder.session.host.updateBuildRootList(br, [])


def test_no_move_back_to_init(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    with raises_fault(1000):
        builder.session.host.setBuildRootState(br, "INIT")


def test_nothing_after_expired_but_expired(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    builder.session.host.setBuildRootState(br, "EXPIRED")  # INIT → EXPIRED is allowed
    builder.session.host.setBuildRootState(br, "EXPIRED")  # silent no-op
    with raises_fault(1000) as info:
        builder.session.host.setBuildRootState(br, "BUILDING")
    assert f"buildroot {br} is EXPIRED" in str(info.value)
    assert hub.history.buildroot_states(br) == ["INIT", "EXPIRED"]


# -- rpm lists -------------------------------------------------------------------------------


def test_known_rpms_are_listed_by_id_or_nvra(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    bash = hub.add_rpm("bash", "5.2", "1.fc40", "x86_64")
    hub.add_rpm("rpm-build", "4.19", "1.fc40", "x86_64")
    builder.session.host.setBuildRootList(br, [
        {"id": bash, "name": "ignored-when-id-given"},
        {"name": "rpm-build", "version": "4.19", "release": "1.fc40", "arch": "x86_64",
         "epoch": None, "payloadhash": "x", "size": 1, "buildtime": 1},
    ])
    listing = builder.session.getBuildrootListing(br)
    assert [(r["name"], r["is_update"]) for r in listing] == [
        ("bash", False), ("rpm-build", False)]
    assert [r["id"] for r in builder.session.listRPMs(componentBuildrootID=br)] == [bash, 2]


def test_unknown_rpm_without_location_is_1000_and_fails_the_whole_call(
    hub: FakeHub, builder: Builder
) -> None:
    _task, br = setup_buildroot(hub, builder)
    hub.add_rpm("bash", "5.2", "1", "x86_64")
    with raises_fault(1000) as info:
        builder.session.host.setBuildRootList(br, [
            {"name": "bash", "version": "5.2", "release": "1", "arch": "x86_64"},
            {"name": "mystery", "version": "1", "release": "1", "arch": "x86_64"},
        ])
    assert "No such rpm" in str(info.value)
    assert builder.session.getBuildrootListing(br) == []


def test_external_rpms_are_created_then_matched(hub: FakeHub, builder: Builder) -> None:
    hub.add_external_repo("container-base")
    _task, br = setup_buildroot(hub, builder)
    builder.session.host.setBuildRootList(br, [external_entry()])
    builder.session.host.setBuildRootState(br, "BUILDING")
    builder.session.host.updateBuildRootList(br, [external_entry(),
                                                  external_entry(name="make")])
    listing = builder.session.getBuildrootListing(br)
    assert [(r["name"], r["is_update"], r["external_repo_name"]) for r in listing] == [
        ("bash", False, "container-base"), ("make", True, "container-base")]


def test_location_naming_a_missing_external_repo_is_1000(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    with raises_fault(1000) as info:
        builder.session.host.setBuildRootList(br, [external_entry(location="nowhere")])
    assert "No such entry in table external_repo: nowhere" in str(info.value)


def test_external_rpm_with_a_changed_hash_is_1000(hub: FakeHub, builder: Builder) -> None:
    hub.add_external_repo("container-base")
    _task, br = setup_buildroot(hub, builder)
    builder.session.host.setBuildRootList(br, [external_entry()])
    _task2, br2 = setup_buildroot(hub, builder)
    with raises_fault(1000) as info:
        builder.session.host.setBuildRootList(br2, [external_entry(payloadhash="1" * 32)])
    assert "hash changed for external rpm" in str(info.value)


def test_external_rpm_entries_need_all_eight_fields(hub: FakeHub, builder: Builder) -> None:
    hub.add_external_repo("container-base")
    _task, br = setup_buildroot(hub, builder)
    entry = external_entry()
    del entry["buildtime"]
    with raises_fault(1000):
        builder.session.host.setBuildRootList(br, [entry])


def test_empty_list_is_accepted(hub: FakeHub, builder: Builder) -> None:
    _task, br = setup_buildroot(hub, builder)
    builder.session.host.setBuildRootList(br, [])
    assert builder.session.getBuildrootListing(br) == []


# -- queries ---------------------------------------------------------------------------------


def test_list_buildroots_filters_like_kojid_expects(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    task1, br1 = setup_buildroot(hub, me)
    _task2, br2 = setup_buildroot(hub, me)
    _task3, br3 = setup_buildroot(hub, other)
    me.session.host.setBuildRootState(br2, "EXPIRED")
    states = (koji.BR_STATES["INIT"], koji.BR_STATES["WAITING"], koji.BR_STATES["BUILDING"])
    live = me.session.listBuildroots(hostID=me.host_id, state=states)
    assert [b["id"] for b in live] == [br1]
    assert [b["id"] for b in me.session.listBuildroots(taskID=task1)] == [br1]
    assert [b["id"] for b in me.session.listBuildroots(state=EXPIRED)] == [br2]
    assert len(me.session.listBuildroots()) == 3
    assert me.session.getBuildroot(br3)["host_name"] == other.name
    assert me.session.getBuildroot(999) is None
