"""A build task's first reads from the hub: one multiCall, kojid's weighing by history."""

import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import koji
import pytest

from adjutant.container.platforms import host_arch
from adjutant.worker.handlers.build_arch import BuildArchTask
from tests.fakehub.conftest import Builder
from tests.fakehub.fakehub_helpers import raises_fault
from tests.support.fakehub import FakeHub
from tests.support.fakehub.context import CallContext
from tests.support.fakehub.registry import ApiMethod
from tests.support.fakehub.state import BUILD_FAILED


def _open_task(hub: FakeHub, builder: Builder, tmp_path: Path) -> BuildArchTask:
    hub.add_tag("f-build", arches="x86_64")
    task_id = hub.make_task("buildArch", ["work/x.src.rpm", "f-build", "noarch", False, {}],
                            assign=builder.host_id)
    builder.session.host.openTask(task_id)
    options = SimpleNamespace(workdir=str(tmp_path / "work"), plugins=None)
    return BuildArchTask(task_id, "buildArch", [], builder.session, options)


def test_repo_host_history_and_taskinfo_come_in_one_round_trip(
        hub: FakeHub, builder: Builder, tmp_path: Path) -> None:
    task = _open_task(hub, builder, tmp_path)
    repo_id = hub.add_repo("f-build")
    built = hub.make_task("build", [])
    hub.add_build("hello", "1", "1", duration=4800.0, task_id=built)
    hub.add_build("hello", "1", "2", duration=9600.0, task_id=built)
    # not counted: a failed build, an import (no task)
    hub.add_build("hello", "1", "3", state=BUILD_FAILED, duration=10**6, task_id=built)
    hub.add_build("hello", "1", "4", duration=10**6)
    before = dict(hub.calls)
    repo, host = task.read_start(repo_id, package="hello", taskinfo=True)
    assert (repo["id"], host["id"]) == (repo_id, builder.host_id)
    assert task.taskinfo["id"] == task.id
    calls = {m: n - before.get(m, 0) for m, n in hub.calls.items() if n != before.get(m, 0)}
    # kojid's four reads in one multiCall, then kojid's weight: 1.5 + mean 7200 s / 4800
    # (the last 6 months' builds, as kojid asks)
    assert calls == {"multiCall": 1, "repoInfo": 1, "host.getHost": 1,
                     "getAverageBuildDuration": 1, "getTaskInfo": 1, "host.setTaskWeight": 1}
    assert hub.task(task.id)["weight"] == pytest.approx(1.5 + 7200 / 4800)


def test_a_package_never_built_keeps_its_weight(
        hub: FakeHub, builder: Builder, tmp_path: Path) -> None:
    task = _open_task(hub, builder, tmp_path)
    weight = hub.task(task.id)["weight"]
    task.read_start(hub.add_repo("f-build"), package="new-package")
    assert hub.task(task.id)["weight"] == weight
    assert hub.calls["host.setTaskWeight"] == 0


def test_a_missing_or_unknown_repo_fails_the_task_saying_which(
        hub: FakeHub, builder: Builder, tmp_path: Path) -> None:
    task = _open_task(hub, builder, tmp_path)
    with pytest.raises(koji.BuildError, match="buildArch needs a repo_id in its options"):
        task.repo_id_of({})
    with raises_fault(1000) as failed:
        task.read_start(999)
    assert "999" in str(failed.value)


def test_weighing_asks_a_hub_older_than_1_23_without_age_and_skips_a_negative_mean(
        hub: FakeHub, builder: Builder, tmp_path: Path) -> None:
    task = _open_task(hub, builder, tmp_path)
    answers = iter([7200.0, -5.0])

    def old_hub_average(ctx: CallContext, /, package: Any) -> float:
        return next(answers)

    hub._dispatcher.registry._methods["getAverageBuildDuration"] = ApiMethod(
        "getAverageBuildDuration", old_hub_average, inspect.signature(old_hub_average),
        reads_only=True)
    repo_id = hub.add_repo("f-build")
    task.read_start(repo_id, package="hello")  # age=6 → 1019, then no age
    assert hub.calls["getAverageBuildDuration"] == 2
    assert hub.task(task.id)["weight"] == pytest.approx(1.5 + 7200 / 4800)
    task.read_start(repo_id, package="hello")  # negative: no new weight
    assert hub.calls["host.setTaskWeight"] == 1


@pytest.mark.parametrize(("scheduled", "expected"), [("s390x", "s390x"), ("noarch", None)])
def test_a_noarch_task_runs_on_the_arch_it_was_scheduled_by_else_the_hosts_own(
        hub: FakeHub, make_builder: Callable[..., Builder], tmp_path: Path,
        scheduled: str, expected: str | None) -> None:
    """kojid's parent pins a noarch buildArch to an arch its ExclusiveArch allows; the
    buildroot must then be of that arch, not of whichever arch this host prefers."""
    builder = make_builder(arches=["x86_64", "s390x"])
    hub.add_tag("f-build", arches="x86_64 s390x")
    task_id = hub.make_task("buildArch", ["work/x.src.rpm", "f-build", "noarch", False, {}],
                            arch=scheduled, assign=builder.host_id)
    builder.session.host.openTask(task_id)
    options = SimpleNamespace(workdir=str(tmp_path / "work"), plugins=None)
    task = BuildArchTask(task_id, "buildArch", [], builder.session, options)
    _repo, host = task.read_start(hub.add_repo("f-build"), taskinfo=True)
    calls = hub.calls["getTaskInfo"]
    chosen = task.find_arch("noarch", host, hub.build_config("f-build"))
    assert chosen == (expected or host_arch())
    assert task.find_arch("s390x", host, hub.build_config("f-build")) == "s390x"
    assert hub.calls["getTaskInfo"] == calls  # read with the task's first reads
