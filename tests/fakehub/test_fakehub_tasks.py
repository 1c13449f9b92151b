"""Task assignment, the task life cycle, subtasks and waiting (protocol §3, §4)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest
from conftest import Builder
from fakehub_helpers import fault_xml, raises_fault, result_xml
from koji.xmlrpcplus import Fault

from tests.support.fakehub import FakeHub

ASSIGNED = koji.TASK_STATES["ASSIGNED"]


def opened_task(hub: FakeHub, builder: Builder, method: str = "sleep",
                params: list[Any] | None = None, **kwargs: Any) -> int:
    """A task opened by ``builder`` straight from FREE."""
    task_id = hub.make_task(method, params if params is not None else [1], **kwargs)
    assert builder.session.host.openTask(task_id) is not None
    return task_id


# -- host.getTasks and the assignment step -----------------------------------------------------


def test_get_tasks_returns_only_tasks_assigned_to_the_caller(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    first, second = make_builder(), make_builder()
    tasks = [hub.make_task("sleep", [n]) for n in range(4)]
    mine = first.session.host.getTasks()
    theirs = second.session.host.getTasks()
    assert mine and theirs
    assert all(t["host_id"] == first.host_id and t["state"] == ASSIGNED for t in mine)
    assert all(t["host_id"] == second.host_id for t in theirs)
    assert sorted(t["id"] for t in mine + theirs) == tasks


def test_get_tasks_orders_by_priority_then_age(hub: FakeHub, builder: Builder) -> None:
    hub.set_host(builder.host_id, capacity=10.0)
    old_low = hub.make_task("sleep", [1], priority=20)
    hub.advance_clock(1)
    urgent = hub.make_task("sleep", [2], priority=10)
    hub.advance_clock(1)
    new_low = hub.make_task("sleep", [3], priority=20)
    builder.session.host.updateHost(0.0, True)
    ids = [t["id"] for t in builder.session.host.getTasks()]
    assert ids == [urgent, old_low, new_low]
    row = builder.session.host.getTasks()[0]
    assert set(row) == {"id", "state", "channel_id", "host_id", "arch", "method", "priority",
                        "create_ts"}


def test_scheduler_does_not_run_while_tasks_are_assigned(hub: FakeHub, builder: Builder) -> None:
    assigned = hub.make_task("sleep", [1], assign=builder.host_id)
    free = hub.make_task("sleep", [2])
    assert [t["id"] for t in builder.session.host.getTasks()] == [assigned]
    assert hub.task(free)["state_name"] == "FREE"


def test_tasks_go_only_to_hosts_serving_their_bin(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    builder = make_builder(arches=["x86_64"], channels=["default"], capacity=10.0)
    other_arch = hub.make_task("buildArch", [], arch="aarch64")
    other_channel = hub.make_task("createrepo", [], channel="createrepo")
    noarch = hub.make_task("sleep", [1], arch="noarch")
    native = hub.make_task("sleep", [1], arch="x86_64")
    got = {t["id"] for t in builder.session.host.getTasks()}
    assert got == {noarch, native}
    assert hub.task(other_arch)["state_name"] == "FREE"
    assert hub.task(other_channel)["state_name"] == "FREE"


def test_hosts_that_are_not_ready_get_nothing(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    never_checked_in = make_builder(ready=False)
    said_not_ready = make_builder(ready=False)
    said_not_ready.session.host.updateHost(0.0, False)
    hub.make_task("sleep", [1])
    assert never_checked_in.session.host.getTasks() == []
    assert said_not_ready.session.host.getTasks() == []


def test_ready_timeout_marks_a_silent_host_not_ready(tmp_path: Path) -> None:
    with FakeHub(tmp_path, ReadyTimeout=30) as hub:
        hub.add_host("b1", password="pw")
        session = hub.client("b1", "pw", exclusive=True)
        session.host.updateHost(0.0, True)
        hub.advance_clock(31)
        hub.make_task("sleep", [1])
        hub.run_scheduler()
        assert hub.host(1)["ready"] is False
        assert hub.refusals() == [] and hub.task(1)["state_name"] == "FREE"
        session.host.updateHost(0.0, True)  # the heartbeat makes it ready again
        assert [t["id"] for t in session.host.getTasks()] == [1]


def test_maxjobs_from_host_data_limits_assignment(hub: FakeHub, builder: Builder) -> None:
    hub.set_host(builder.host_id, capacity=10.0)
    builder.session.host.updateHost(0.0, True, data={"maxjobs": 1, "methods": ["sleep"]})
    opened_task(hub, builder)
    hub.make_task("sleep", [2])
    assert builder.session.host.getTasks() == []
    assert hub.host(builder.host_id)["data"] == {"maxjobs": 1, "methods": ["sleep"]}


def test_capacity_with_overcommit_limits_assignment(hub: FakeHub, builder: Builder) -> None:
    running = opened_task(hub, builder)
    builder.session.host.setTaskWeight(running, 2.0)  # load 2.0 = capacity 2.0
    hub.make_task("sleep", [2])
    assert builder.session.host.getTasks() == []
    builder.session.host.setTaskWeight(running, 1.5)  # 2.0 - 1.5 > max(0, 1.0 - 5)
    assert len(builder.session.host.getTasks()) == 1


def test_waiting_tasks_do_not_count_as_load(hub: FakeHub, builder: Builder) -> None:
    parent = opened_task(hub, builder)
    builder.session.host.setTaskWeight(parent, 2.0)
    builder.session.host.taskSetWait(parent, None)
    hub.make_task("sleep", [2])
    assert len(builder.session.host.getTasks()) == 1


def test_refused_task_goes_elsewhere(hub: FakeHub, make_builder: Callable[..., Builder]) -> None:
    first = make_builder()
    task_id = hub.make_task("sleep", [1])
    assert [t["id"] for t in first.session.host.getTasks()] == [task_id]
    first.session.host.refuseTask(task_id, soft=False, msg="no handler for method")
    assert hub.task(task_id)["state_name"] == "FREE"
    assert first.session.host.getTasks() == []
    second = make_builder()
    assert [t["id"] for t in second.session.host.getTasks()] == [task_id]
    [refusal] = hub.refusals(task_id)
    assert (refusal["host_id"], refusal["soft"], refusal["msg"]) == (
        first.host_id, False, "no handler for method")


def test_soft_refusal_lapses_after_soft_refusal_timeout(tmp_path: Path) -> None:
    with FakeHub(tmp_path, SoftRefusalTimeout=60, ReadyTimeout=1000) as hub:
        hub.add_host("b1", password="pw")
        session = hub.client("b1", "pw", exclusive=True)
        session.host.updateHost(0.0, True)
        task_id = hub.make_task("sleep", [1])
        session.host.getTasks()
        session.host.refuseTask(task_id)  # soft by default
        assert session.host.getTasks() == []
        hub.advance_clock(61)
        session.host.updateHost(0.0, True)
        assert [t["id"] for t in session.host.getTasks()] == [task_id]


def test_run_interval_limits_how_often_the_scheduler_runs(tmp_path: Path) -> None:
    with FakeHub(tmp_path, RunInterval=60) as hub:
        hub.add_host("b1", password="pw")
        session = hub.client("b1", "pw", exclusive=True)
        session.host.updateHost(0.0, True)
        assert session.host.getTasks() == []  # runs (nothing to do), stamps the time
        hub.make_task("sleep", [1])
        assert session.host.getTasks() == []  # too soon
        hub.advance_clock(61)
        assert len(session.host.getTasks()) == 1


def test_noarch_build_tasks_get_automatic_arch_refusals(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    arm = make_builder(arches=["aarch64"])
    x86 = make_builder(arches=["x86_64"])
    hub.add_tag("f40-build", arches="x86_64")
    task_id = hub.make_task("buildArch", ["x.src.rpm", "f40-build", "noarch", True, {}])
    assert [r["host_id"] for r in hub.refusals(task_id)] == [arm.host_id]
    assert arm.session.host.getTasks() == []
    assert [t["id"] for t in x86.session.host.getTasks()] == [task_id]


# -- heartbeat and timers ----------------------------------------------------------------------


def test_update_host_is_the_heartbeat_even_when_not_ready(hub: FakeHub, builder: Builder) -> None:
    before = hub.host(builder.host_id)["update_ts"]
    hub.advance_clock(5)
    builder.session.host.updateHost(1.5, False, data={"maxjobs": 2})
    info = builder.session.host.getHost()
    assert info["update_ts"] > before
    assert (info["ready"], info["task_load"]) == (False, 1.5)
    assert {"id", "user_id", "name", "arches", "capacity", "enabled", "description",
            "comment"} <= set(info)


def test_update_host_data_must_be_a_dict(builder: Builder) -> None:
    with raises_fault(1019):
        builder.session.host.updateHost(0.0, True, data=["maxjobs", 3])


def test_assign_timeout_frees_the_task_with_a_soft_refusal(tmp_path: Path) -> None:
    with FakeHub(tmp_path, AssignTimeout=60, ReadyTimeout=1000) as hub:
        hub.add_host("b1", password="pw")
        session = hub.client("b1", "pw", exclusive=True)
        session.host.updateHost(0.0, True)
        task_id = hub.make_task("sleep", [1])
        session.host.getTasks()
        hub.advance_clock(61)
        session.host.updateHost(0.0, True)  # checked in since the assignment
        hub.run_scheduler()
        assert hub.task(task_id)["state_name"] == "FREE"
        assert hub.refusals(task_id)[0]["msg"] == "assignment timeout"
        assert hub.history.task_states(task_id) == ["FREE", "ASSIGNED", "FREE"]


def test_host_timeout_frees_open_tasks_of_a_silent_host(tmp_path: Path) -> None:
    with FakeHub(tmp_path, HostTimeout=120, ReadyTimeout=1000) as hub:
        hub.add_host("b1", password="pw")
        session = hub.client("b1", "pw", exclusive=True)
        session.host.updateHost(0.0, True)
        placed = hub.make_task("sleep", [1])
        session.host.getTasks()
        session.host.openTask(placed)
        direct = hub.make_task("sleep", [2])
        session.host.openTask(direct)  # opened from FREE: no scheduler run entry
        hub.advance_clock(121)
        hub.run_scheduler()
        assert hub.task(placed)["state_name"] == "FREE"
        assert hub.task(direct)["state_name"] == "OPEN"
        assert [t["id"] for t in session.host.getHostTasks()] == [direct]


# -- openTask --------------------------------------------------------------------------------


def test_open_task_opens_a_free_or_own_assigned_task(hub: FakeHub, builder: Builder) -> None:
    free = hub.make_task("sleep", [1])
    data = builder.session.host.openTask(free)
    assert data["state"] == koji.TASK_STATES["OPEN"] and data["host_id"] == builder.host_id
    assert data["request"].startswith("<?xml") and "<methodName>sleep" in data["request"]
    assigned = hub.make_task("sleep", [2], assign=builder.host_id)
    assert builder.session.host.openTask(assigned)["id"] == assigned


def test_open_task_returns_none_when_not_openable(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    elsewhere = hub.make_task("sleep", [1], assign=other.host_id)
    assert me.session.host.openTask(elsewhere) is None
    twice = opened_task(hub, me)
    assert me.session.host.openTask(twice) is None
    canceled = hub.make_task("sleep", [1])
    hub.cancel_task(canceled)
    assert me.session.host.openTask(canceled) is None
    done = opened_task(hub, me)
    me.session.host.closeTask(done, result_xml(None))
    assert me.session.host.openTask(done) is None


# -- ownership -------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda s, t: s.host.closeTask(t, result_xml(1)),
    lambda s, t: s.host.failTask(t, fault_xml(1000, "x")),
    lambda s, t: s.host.setTaskWeight(t, 1.0),
    lambda s, t: s.host.subtask("sleep", [1], t),
], ids=["closeTask", "failTask", "setTaskWeight", "subtask"])
def test_task_calls_need_an_owned_task(
    hub: FakeHub, make_builder: Callable[..., Builder],
    call: Callable[[koji.ClientSession, int], object],
) -> None:
    me, other = make_builder(), make_builder()
    theirs = opened_task(hub, other)
    assigned_to_me = hub.make_task("sleep", [1], assign=me.host_id)  # ASSIGNED, not OPEN
    for task_id in (theirs, assigned_to_me):
        with raises_fault(1004) as info:
            call(me.session, task_id)
        assert str(info.value) == f"host {me.host_id} does not own task {task_id}"


def test_close_task_stores_the_response_verbatim(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    response = result_xml({"rpms": ["tasks/1/1/x.rpm"], "brootid": None, "size": 2**40})
    builder.session.host.closeTask(task_id, response)
    assert hub.task(task_id)["result"] == response
    assert builder.session.getTaskResult(task_id) == {
        "rpms": ["tasks/1/1/x.rpm"], "brootid": None, "size": 2**40}
    assert task_id not in [t["id"] for t in builder.session.host.getHostTasks()]
    assert hub.history.task_states(task_id) == ["FREE", "OPEN", "CLOSED"]


def test_failed_task_result_raises_the_stored_fault_with_its_code(
    hub: FakeHub, builder: Builder
) -> None:
    build_error = opened_task(hub, builder)
    builder.session.host.failTask(build_error, fault_xml(1005, "rpmbuild failed"))
    with raises_fault(1005) as info:
        builder.session.getTaskResult(build_error)
    assert isinstance(info.value, koji.BuildError)
    crash = opened_task(hub, builder)
    builder.session.host.failTask(crash, fault_xml(1, "Traceback ..."))
    with pytest.raises(Fault) as fault:
        builder.session.getTaskResult(crash)
    assert fault.value.faultCode == 1
    assert builder.session.getTaskResult(crash, raise_fault=False) == {
        "faultCode": 1, "faultString": "Traceback ..."}


def test_result_of_unfinished_or_canceled_task_is_1000(hub: FakeHub, builder: Builder) -> None:
    running = opened_task(hub, builder)
    with raises_fault(1000):
        builder.session.getTaskResult(running)
    hub.cancel_task(running)
    with raises_fault(1000) as info:
        builder.session.getTaskResult(running)
    assert "is canceled" in str(info.value)


# -- cancel, free, refuse --------------------------------------------------------------------


def test_canceled_task_leaves_host_tasks_and_refuses_its_host(
    hub: FakeHub, builder: Builder
) -> None:
    task_id = opened_task(hub, builder)
    hub.cancel_task(task_id)
    assert builder.session.host.getHostTasks() == []
    info = builder.session.getTaskInfo(task_id)
    assert info["state"] == koji.TASK_STATES["CANCELED"] and info["host_id"] == builder.host_id
    with raises_fault(1004):
        builder.session.host.closeTask(task_id, result_xml(None))
    with raises_fault(1004):
        builder.session.host.failTask(task_id, fault_xml(1000, "x"))
    with raises_fault(1004):
        builder.session.host.newBuildRoot(hub.add_repo(hub.add_tag("t")), "x86_64", task_id)


def test_cancel_is_recursive_and_allowed_to_owner_host_or_admin(
    hub: FakeHub, builder: Builder
) -> None:
    parent = opened_task(hub, builder)
    child = builder.session.host.subtask("sleep", [1], parent, label="a")
    grandchild = hub.make_task("sleep", [1], parent=child)
    hub.add_user("mallory", "pw")
    with raises_fault(1004):
        hub.client("mallory", "pw").cancelTask(parent)
    builder.session.cancelTask(parent)  # the host running it may
    states = {t: hub.task(t)["state_name"] for t in (parent, child, grandchild)}
    assert set(states.values()) == {"CANCELED"}


def test_owner_cancels_over_xmlrpc(hub: FakeHub) -> None:
    hub.add_user("alice", "pw")
    task_id = hub.make_task("sleep", [1], owner="alice")
    hub.client("alice", "pw").cancelTask(task_id)
    assert hub.task(task_id)["state_name"] == "CANCELED"


def test_free_tasks_silently_skips_tasks_not_owned(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    mine = opened_task(hub, me)
    theirs = opened_task(hub, other)
    me.session.host.freeTasks([mine, theirs])
    assert hub.task(mine)["state_name"] == "FREE"
    assert hub.task(theirs)["state_name"] == "OPEN"


def test_refuse_task_ignores_tasks_of_other_hosts(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    theirs = opened_task(hub, other)
    me.session.host.refuseTask(theirs)
    assert hub.task(theirs)["state_name"] == "OPEN"
    assert hub.refusals() == []


def test_refuse_frees_an_open_task_and_refusing_a_finished_one_is_1000(
    hub: FakeHub, builder: Builder
) -> None:
    running = opened_task(hub, builder)
    builder.session.host.refuseTask(running, soft=True, msg="busy")
    assert hub.task(running)["state_name"] == "FREE"
    done = opened_task(hub, builder)
    builder.session.host.closeTask(done, result_xml(None))
    with raises_fault(1000):
        builder.session.host.refuseTask(done)
    assert hub.refusals(done) == []  # rolled back with the fault


# -- subtasks --------------------------------------------------------------------------------


def test_subtask_child_is_free_and_inherits_from_the_parent(
    hub: FakeHub, builder: Builder
) -> None:
    hub.add_user("alice")
    parent = opened_task(hub, builder, "build", ["src"], arch="noarch", priority=20,
                         owner="alice", channel="createrepo")
    child = builder.session.host.subtask("buildArch", ["x.src.rpm", "tag"], parent, label="x86_64",
                                         kwargs={"opt": 1})
    info = hub.task(child)
    assert info["state_name"] == "FREE"
    assert info["priority"] == 19
    assert (info["owner"], info["arch"], info["channel_id"]) == (
        hub.task(parent)["owner"], "noarch", hub.task(parent)["channel_id"])
    assert info["parent"] == parent and info["label"] == "x86_64"
    assert info["request"] == ["x.src.rpm", "tag", {"opt": 1, "__starstar": True}]


def test_subtask_with_an_existing_label_returns_that_child(hub: FakeHub, builder: Builder) -> None:
    parent = opened_task(hub, builder)
    first = builder.session.host.subtask("sleep", [1], parent, label="srpm")
    again = builder.session.host.subtask("other", [2], parent, label="srpm")
    assert again == first
    assert hub.children(parent) == [first]


def test_subtask_options_arch_priority_channel(hub: FakeHub, builder: Builder) -> None:
    parent = opened_task(hub, builder)
    child = builder.session.host.subtask("createrepo", [1, "x86_64", None], parent,
                                         arch="x86_64", priority=5, channel="createrepo")
    info = hub.task(child)
    assert (info["arch"], info["priority"]) == ("x86_64", 5)
    assert info["channel_id"] == hub.add_channel("createrepo")  # existing channel's id


def test_subtask_owner_option_is_1004(hub: FakeHub, builder: Builder) -> None:
    parent = opened_task(hub, builder)
    with raises_fault(1004):
        builder.session.host.subtask("sleep", [1], parent, owner="someone")


def test_subtask2_encodes_the_arguments(hub: FakeHub, builder: Builder) -> None:
    parent = opened_task(hub, builder)
    child = builder.session.host.subtask2(parent, {"label": "w"}, "waitrepo", "f40-build",
                                          None, nvrs=["a-1-1"])
    assert hub.task(child)["request"] == ["f40-build", None,
                                          {"nvrs": ["a-1-1"], "__starstar": True}]


# -- waiting ---------------------------------------------------------------------------------


def _family(hub: FakeHub, builder: Builder, n: int) -> tuple[int, list[int]]:
    parent = opened_task(hub, builder)
    kids = [builder.session.host.subtask("sleep", [i], parent, label=str(i)) for i in range(n)]
    return parent, kids


def _finish(hub: FakeHub, builder: Builder, task_id: int, result: object = None,
            fault: tuple[int, str] | None = None) -> None:
    assert builder.session.host.openTask(task_id) is not None
    if fault:
        builder.session.host.failTask(task_id, fault_xml(*fault))
    else:
        builder.session.host.closeTask(task_id, result_xml(result))


def test_task_wait_reports_finished_and_unfinished_awaited_children(
    hub: FakeHub, builder: Builder
) -> None:
    hub.set_host(builder.host_id, capacity=20.0)
    parent, (a, b, c) = _family(hub, builder, 3)
    builder.session.host.taskSetWait(parent, [a, b])
    assert builder.session.host.taskWait(parent) == [[], [a, b]]
    _finish(hub, builder, a, "A")
    assert builder.session.host.taskWait(parent) == [[a], [b]]
    assert builder.session.host.taskWait(parent) == [[], [b]]  # a is no longer awaited
    assert hub.task(parent)["waiting"] is True
    assert hub.task(c)["awaited"] is None


def test_host_tasks_alert_a_waiting_parent_when_a_child_finished(
    hub: FakeHub, builder: Builder
) -> None:
    hub.set_host(builder.host_id, capacity=20.0)
    parent, (child,) = _family(hub, builder, 1)
    assert builder.session.host.getHostTasks() == [{"id": parent, "waiting": None,
                                                    "weight": 1.0}]
    builder.session.host.taskSetWait(parent, None)
    _finish(hub, builder, child, 1)
    [row] = builder.session.host.getHostTasks()
    assert row == {"id": parent, "waiting": True, "weight": 1.0, "alert": True}


def test_task_wait_results_returns_results_and_ends_the_wait(
    hub: FakeHub, builder: Builder
) -> None:
    hub.set_host(builder.host_id, capacity=20.0)
    parent, (a, b) = _family(hub, builder, 2)
    builder.session.host.taskSetWait(parent, None)
    _finish(hub, builder, a, {"x": 1})
    _finish(hub, builder, b, [1, None])
    results = builder.session.host.taskWaitResults(parent, [a, b])
    assert results == [[a, {"x": 1}], [b, [1, None]]]
    assert hub.task(parent)["waiting"] is False


def test_task_wait_results_canfail_semantics(hub: FakeHub, builder: Builder) -> None:
    hub.set_host(builder.host_id, capacity=20.0)
    parent, (ok, failed, canceled, running) = _family(hub, builder, 4)
    _finish(hub, builder, ok, "fine")
    _finish(hub, builder, failed, fault=(1005, "boom"))
    hub.cancel_task(canceled)
    wait = builder.session.host.taskWaitResults
    with raises_fault(1005):
        wait(parent, [ok, failed])
    with raises_fault(1000) as info:
        wait(parent, [ok, canceled])
    assert f"Task {canceled} is canceled" in str(info.value)
    with raises_fault(1000) as info:
        wait(parent, [ok, running], canfail=[running])
    assert f"Task {running} is not finished" in str(info.value)
    assert wait(parent, [ok, failed, canceled], canfail=[failed, canceled]) == [
        [ok, "fine"],
        [failed, {"faultCode": 1005, "faultString": "boom"}],
        [canceled, {"faultCode": 1000, "faultString": f"Task {canceled} is canceled"}],
    ]


def test_wait_calls_check_the_session_not_parent_ownership(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    theirs = opened_task(hub, other)
    me.session.host.taskSetWait(theirs, None)
    assert me.session.host.taskWait(theirs) == [[], []]
    assert me.session.host.taskWaitResults(theirs, []) == []
