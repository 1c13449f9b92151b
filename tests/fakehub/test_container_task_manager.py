"""adjutant's TaskManager against the fake hub (real fork): where it differs from koji's."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import koji
import koji.daemon
import koji.tasks
import pytest

from adjutant.worker.manager import ContainerTaskManager
from tests.fakehub.test_fakehub_taskmanager import finished, run_until
from tests.support.fakehub import FakeHub
from tests.support.memruntime import MemoryRuntime


class QuickTask(koji.tasks.BaseTaskHandler):
    Methods = ["quickTask"]
    _taskWeight = 0.5

    def handler(self) -> str:
        return "done"


class SlowTask(koji.tasks.BaseTaskHandler):
    Methods = ["slowTask"]
    _taskWeight = 0.5

    def handler(self) -> None:
        time.sleep(60)


@pytest.fixture
def manager(hub: FakeHub, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[ContainerTaskManager]:
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    hub.add_host("builder1", password="pw", capacity=4.0)
    session = hub.client("builder1", "pw", exclusive=True)
    options = SimpleNamespace(workdir=str(tmp_path / "workdir"), minspace=1, maxjobs=5,
                              topurl=hub.topurl, topdir=None, sleeptime=0,
                              host_name="builder1")
    tm = ContainerTaskManager(options, session, MemoryRuntime())
    for handler in (QuickTask, SlowTask):
        tm.registerHandler(handler)
    yield tm
    tm.shutdown()


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids whose process tree koji looked for in /proc."""
    scanned: list[int] = []
    koji_scan = koji.daemon.TaskManager._childPIDs

    def spy(self: Any, pid: int) -> Any:
        scanned.append(pid)
        return koji_scan(self, pid)

    monkeypatch.setattr(koji.daemon.TaskManager, "_childPIDs", spy)
    return scanned


def test_a_finished_task_process_is_not_searched_for_children(
        hub: FakeHub, manager: ContainerTaskManager, scans: list[int]) -> None:
    task_id = hub.make_task("quickTask", [])
    run_until(manager, lambda: bool(manager.pids))
    pid = manager.pids[task_id]
    run_until(manager, lambda: finished(hub, task_id)() and not manager.pids)
    assert hub.task(task_id)["state_name"] == "CLOSED"
    # reaped, so its children (if any) have gone to another parent by now; the pid may
    # even be another process's
    assert pid not in scans
    # the rest of koji's cleanup still ran: the task's subsession is expired
    assert hub.calls["logoutChild"] == 1
    assert task_id not in manager.subsessions


def test_a_cancelled_task_process_is_still_found_and_killed(
        hub: FakeHub, manager: ContainerTaskManager, scans: list[int]) -> None:
    task_id = hub.make_task("slowTask", [])
    run_until(manager, lambda: bool(manager.pids))
    pid = manager.pids[task_id]
    hub.cancel_task(task_id)
    run_until(manager, lambda: not manager.pids)
    assert pid in scans
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
