"""koji.daemon.TaskManager, unmodified, runs tasks against the fake hub (fork and all)."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import koji
import koji.daemon
import koji.tasks
import pytest

from tests.support.fakehub import FakeHub


class EchoTask(koji.tasks.BaseTaskHandler):
    """Uploads a log, then returns its arguments."""

    Methods = ["echoTask"]
    _taskWeight = 0.5

    def handler(self, value: Any, extra: Any = None) -> dict[str, Any]:
        log = Path(self.workdir) / "echo.log"
        log.write_text(f"echo {value}\n")
        self.uploadFile(str(log))
        return {"echo": value, "extra": extra, "big": 2**40, "nothing": None}


class FailTask(koji.tasks.BaseTaskHandler):
    Methods = ["failTask"]

    def handler(self) -> None:
        raise koji.BuildError("rpmbuild exited with status 1")


class ParentTask(koji.tasks.BaseTaskHandler):
    """Spawns echo subtasks and waits for all of them (SIGUSR2 wake-ups)."""

    Methods = ["parentTask"]
    _taskWeight = 0.2

    def handler(self, count: int) -> list[Any]:
        ids = [self.subtask("echoTask", [n], label=f"echo{n}") for n in range(count)]
        results = self.wait(ids, all=True, failany=True)
        return [results[task_id]["echo"] for task_id in ids]


@pytest.fixture
def manager(hub: FakeHub, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[koji.daemon.TaskManager]:
    """A TaskManager logged in as a fresh host, with the kojid options it reads."""
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))  # a busy CI box is fine
    hub.add_host("builder1", password="pw", capacity=4.0)
    session = hub.client("builder1", "pw", exclusive=True)
    options = SimpleNamespace(
        workdir=str(tmp_path / "workdir"), mockdir=str(tmp_path), minspace=1, maxjobs=5,
        topurl=hub.topurl, topdir=None, sleeptime=0,
    )
    tm = koji.daemon.TaskManager(options, session)
    for handler in (EchoTask, FailTask, ParentTask):
        tm.registerHandler(handler)
    yield tm
    # reap whatever is left
    deadline = time.time() + 10
    while tm.pids and time.time() < deadline:
        tm.updateTasks()
        time.sleep(0.02)


def run_until(tm: koji.daemon.TaskManager, done: Callable[[], bool], timeout: float = 15) -> None:
    """kojid's main loop (without buildroot maintenance) until ``done()``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        tm.updateTasks()
        tm.getNextTask()
        if done():
            return
        time.sleep(0.02)
    raise AssertionError("tasks did not finish in time")


def finished(hub: FakeHub, *task_ids: int) -> Callable[[], bool]:
    return lambda: all(hub.task(t)["state_name"] in ("CLOSED", "FAILED", "CANCELED")
                       for t in task_ids)


def test_task_manager_runs_a_task_to_closed(hub: FakeHub,
                                            manager: koji.daemon.TaskManager) -> None:
    task_id = hub.make_task("echoTask", ["hi", {"extra": [1, None], "__starstar": True}])
    task_done = finished(hub, task_id)
    run_until(manager, lambda: task_done() and not manager.pids)  # closed and reaped
    assert hub.task(task_id)["state_name"] == "CLOSED"
    assert hub.task_result(task_id) == {"echo": "hi", "extra": [1, None], "big": 2**40,
                                        "nothing": None}
    assert hub.history.task_states(task_id) == ["FREE", "ASSIGNED", "OPEN", "CLOSED"]
    assert hub.task(task_id)["weight"] == 0.5
    reader = hub.client()
    assert reader.listTaskOutput(task_id) == ["echo.log"]
    assert reader.downloadTaskOutput(task_id, "echo.log") == b"echo hi\n"
    for method in ("host.updateHost", "host.getTasks", "host.openTask", "host.setTaskWeight",
                   "subsession", "host.closeTask", "checkUpload", "logoutChild"):
        assert hub.calls[method] >= 1, method


def test_task_manager_reports_a_failure_with_its_fault_code(
    hub: FakeHub, manager: koji.daemon.TaskManager
) -> None:
    task_id = hub.make_task("failTask", [])
    run_until(manager, finished(hub, task_id))
    assert hub.task(task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match="rpmbuild exited"):
        hub.task_result(task_id)


def test_task_manager_refuses_methods_it_has_no_handler_for(
    hub: FakeHub, manager: koji.daemon.TaskManager
) -> None:
    task_id = hub.make_task("chainmaven", [])
    run_until(manager, lambda: bool(hub.refusals(task_id)))
    [refusal] = hub.refusals(task_id)
    assert (refusal["soft"], refusal["msg"]) == (False, "no handler for method")
    assert hub.task(task_id)["state_name"] == "FREE"


def test_task_manager_runs_subtasks_and_wakes_the_waiting_parent(
    hub: FakeHub, manager: koji.daemon.TaskManager
) -> None:
    parent = hub.make_task("parentTask", [2])
    run_until(manager, finished(hub, parent), timeout=25)
    assert hub.task_result(parent) == [0, 1]
    children = hub.children(parent)
    assert [hub.task(c)["label"] for c in children] == ["echo0", "echo1"]
    assert all(hub.task(c)["priority"] == 19 for c in children)
    assert hub.calls["host.taskWaitResults"] == 1


def test_task_manager_kills_a_canceled_task(hub: FakeHub,
                                            manager: koji.daemon.TaskManager) -> None:
    parent = hub.make_task("parentTask", [1])
    # take the parent only: the child would close at once
    run_until(manager, lambda: bool(hub.children(parent)))
    hub.cancel_task(parent)
    run_until(manager, lambda: not manager.pids)
    assert hub.task(parent)["state_name"] == "CANCELED"
    assert hub.history.task_states(parent)[-1] == "CANCELED"


def test_task_manager_shutdown_frees_running_tasks(hub: FakeHub,
                                                   manager: koji.daemon.TaskManager) -> None:
    manager.shutdown()  # calls updateHost(task_load=0.0, ready=False): keywords by name
    assert hub.host(1)["ready"] is False
