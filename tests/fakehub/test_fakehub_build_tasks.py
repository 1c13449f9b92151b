"""chainBuild (the task ``koji chain-build`` creates) and listBuilds, as the real hub."""

import koji
from fakehub_helpers import raises_fault

from tests.support.fakehub import FakeHub

LEVELS = [["git://scm.example/a.git#1"], ["git://scm.example/b.git#2"]]


def packager(hub: FakeHub, admin: bool = False) -> koji.ClientSession:
    hub.add_user("packager", "pw", perms=["admin"] if admin else [])
    return hub.client("packager", "pw")


def test_chain_build_creates_a_chainbuild_task_owned_by_the_caller(hub: FakeHub) -> None:
    session = packager(hub)
    task_id = session.chainBuild(LEVELS, "f-target", {"skip_tag": False})
    task = hub.task(task_id)
    assert (task["method"], task["state_name"], task["arch"], task["priority"]) == \
        ("chainbuild", "FREE", "noarch", koji.PRIO_DEFAULT)
    assert task["request"] == [LEVELS, "f-target", {"skip_tag": False}]
    assert task["owner"] == session.getLoggedInUser()["id"]
    assert task["channel_id"] == session.getChannel("default")["id"]


def test_chain_build_stores_empty_opts_and_takes_priority_and_channel(hub: FakeHub) -> None:
    hub.add_channel("chains")
    task_id = packager(hub).chainBuild(LEVELS, "f-target", None, 5, "chains")
    task = hub.task(task_id)
    assert task["request"][2] == {}
    assert task["priority"] == koji.PRIO_DEFAULT + 5
    assert task["channel_id"] == hub.client().getChannel("chains")["id"]


def test_chain_build_needs_a_login(hub: FakeHub) -> None:
    with raises_fault(1004):
        hub.client().chainBuild(LEVELS, "f-target")


def test_chain_build_needs_a_list_of_levels(hub: FakeHub) -> None:
    with raises_fault(1019):
        packager(hub).chainBuild("git://scm.example/a.git#1", "f-target")


def test_a_negative_priority_is_for_admins_only(hub: FakeHub) -> None:
    with raises_fault(1004):
        packager(hub).chainBuild(LEVELS, "f-target", None, -5)
    hub.add_admin("boss", "pw")
    task_id = hub.client("boss", "pw").chainBuild(LEVELS, "f-target", None, -5)
    assert hub.task(task_id)["priority"] == koji.PRIO_DEFAULT - 5


def test_an_unknown_or_disabled_channel_is_refused(hub: FakeHub) -> None:
    session = packager(hub)
    with raises_fault(1000) as err:
        session.chainBuild(LEVELS, "f-target", None, None, "nowhere")
    assert "No such channel: nowhere" in str(err.value)
    channel_id = hub.add_channel("closed")
    hub.core.db.channels[channel_id].enabled = False
    with raises_fault(1000) as err:
        session.chainBuild(LEVELS, "f-target", None, None, "closed")
    assert "Channel closed is disabled" in str(err.value)


def test_list_builds_by_task(hub: FakeHub) -> None:
    task_id = hub.make_task("build", ["src", "target"])
    mine = hub.add_build("a", "1", "1", task_id=task_id)
    hub.add_build("b", "1", "1", task_id=task_id + 100)
    hub.add_build("c", "1", "1")
    session = hub.client()
    assert [b["id"] for b in session.listBuilds(taskID=task_id)] == [mine]
    assert [b["nvr"] for b in session.listBuilds(taskID=-1)] == ["a-1-1", "b-1-1"]
    assert [b["nvr"] for b in session.listBuilds(
        packageID=session.getPackageID("c"))] == ["c-1-1"]
    assert session.listBuilds(taskID=task_id, state=koji.BUILD_STATES["FAILED"]) == []


def test_list_tagged_at_an_event_shows_only_the_builds_tagged_by_then(hub: FakeHub) -> None:
    """What a waitrepo checks a repo against (its create_event), inheritance included."""
    hub.add_tag("dest", arches=None)
    hub.add_tag("build", parents=["dest"])
    hub.tag_build("dest", hub.add_build("a", "1", "1"))
    session = hub.client()
    before = session.getLastEvent()["id"]
    hub.tag_build("dest", hub.add_build("b", "1", "1"))
    assert [b["nvr"] for b in session.listTagged("build", event=before, inherit=True)] == \
        ["a-1-1"]
    assert [b["nvr"] for b in session.listTagged("build", inherit=True)] == ["b-1-1", "a-1-1"]
    assert session.listTagged("build", event=before) == []
