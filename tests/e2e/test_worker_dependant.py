"""dependantTask: koji's handler, run by the worker, waits for unrelated tasks, then runs
its subtasks."""

from __future__ import annotations

import time
from collections.abc import Callable

import koji
import pytest

from tests.support.fakehub import FakeHub
from tests.support.kojisetup import wait_task
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]


def test_subtasks_start_only_once_the_awaited_tasks_finish(
        hub: FakeHub, start_worker: StartWorker) -> None:
    hub.add_tag("dep-build", arches="x86_64")
    awaited = hub.make_task("waitrepo", ["dep-build"])
    dependant = hub.make_task("dependantTask", [
        [awaited], [["waitrepo", ["dep-build"], {"label": "after", "priority": 15}]]])
    worker = start_worker(adjutant={"repo_wait_interval": 0.5})
    wait_for(lambda: hub.task(dependant)["state_name"] == "OPEN"
             and hub.task(awaited)["state_name"] == "OPEN", 30, message="both open")
    time.sleep(2)
    assert hub.children(dependant) == []  # still waiting
    repo_id = hub.add_repo("dep-build")
    assert wait_task(hub, dependant, timeout=60)["state_name"] == "CLOSED", \
        worker.log()[-3000:]
    [child] = [hub.task(c) for c in hub.children(dependant)]
    assert (child["method"], child["label"], child["priority"], child["state_name"]) == \
        ("waitrepo", "after", 15, "CLOSED")
    assert hub.task_result(child["id"])["id"] == repo_id
    assert hub.task(awaited)["state_name"] == "CLOSED"


def test_a_failed_dependency_fails_the_task_and_starts_nothing(
        hub: FakeHub, start_worker: StartWorker) -> None:
    hub.add_tag("dep-build", arches="x86_64")
    awaited = hub.make_task("waitrepo", ["dep-build"])
    dependant = hub.make_task("dependantTask", [[awaited], [["waitrepo", ["dep-build"]]]])
    start_worker(adjutant={"repo_wait_interval": 0.5})
    wait_for(lambda: hub.task(dependant)["state_name"] == "OPEN", 30, message="open")
    hub.cancel_task(awaited)
    assert wait_task(hub, dependant, timeout=60)["state_name"] == "FAILED"
    with pytest.raises(koji.GenericError, match=f"Dependency {awaited} failed to complete"):
        hub.task_result(dependant)
    assert hub.children(dependant) == []
