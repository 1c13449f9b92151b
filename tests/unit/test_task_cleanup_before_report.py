"""A task reports only once its deferred engine cleanup is done, and fails when it failed."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import koji
import pytest

from adjutant.container.errors import ContainerError
from adjutant.plugin import hookimpl
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.plugin.tasks import HubTaskHandler

DONE: list[str] = []


class LeavesCleanup(HubTaskHandler):
    Methods = ["leavesCleanup"]

    def handler(self, fail: bool) -> str:
        def slow() -> None:
            time.sleep(0.2)
            if fail:
                raise ContainerError("podman: removing 1a2b3c failed: busy")
            DONE.append("removed")

        self.cleanup.defer("remove container 1a2b3c", slow)
        return "built"


class Observer:
    def __init__(self) -> None:
        self.failed: list[BaseException] = []
        self.finished: list[Any] = []

    @hookimpl
    def adjutant_task_failed(self, task: Mapping[str, Any], error: BaseException) -> None:
        self.failed.append(error)

    @hookimpl
    def adjutant_task_finished(self, task: Mapping[str, Any], result: Any) -> None:
        self.finished.append(result)


def _task(tmp_path: Path, fail: bool) -> tuple[LeavesCleanup, Observer]:
    observer = Observer()
    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})),
                           extra=[("observer", observer)])
    options = SimpleNamespace(plugins=plugins, daemon_pid=os.getpid(), workdir=str(tmp_path))
    session = SimpleNamespace(_callMethod=lambda *a, **k: None)
    return LeavesCleanup(7, "leavesCleanup", (fail,), session, options), observer


def test_the_result_comes_once_the_cleanup_is_done(tmp_path: Path) -> None:
    DONE.clear()
    task, observer = _task(tmp_path, fail=False)
    assert task.run() == "built"
    assert DONE == ["removed"]
    assert observer.finished == ["built"]


def test_a_cleanup_that_failed_fails_the_task_and_observers_hear_of_it(
        tmp_path: Path) -> None:
    task, observer = _task(tmp_path, fail=True)
    with pytest.raises(koji.BuildError, match="could not remove container 1a2b3c: podman: "
                                              "removing 1a2b3c failed: busy"):
        task.run()
    assert [str(e) for e in observer.failed] == [
        "container failure: could not remove container 1a2b3c: podman: removing 1a2b3c "
        "failed: busy"]
    assert observer.finished == []
