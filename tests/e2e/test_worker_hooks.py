"""Every hook is called through pluggy, when its hookspec says and with what it says
(datasette's practice), in a real worker: a recording plugin loaded with
ADJUTANT_PLUGINS_LOAD, --trace-hooks on, a buildArch that passes and one that fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji

from adjutant.plugin import hookspecs
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import package_spec
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]
ROOT = Path(__file__).resolve().parents[2]
RECORDER = "tests.support.plugins.recorder"


def recorded(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def plugin_env(record: Path, **extra: str) -> dict[str, str]:
    return {"ADJUTANT_PLUGINS_LOAD": RECORDER, "ADJUTANT_TEST_RECORD": str(record),
            "ADJUTANT_TRACE_HOOKS": "1", "PYTHONPATH": str(ROOT), **extra}


def test_every_hook_is_called_when_and_with_what_its_spec_says(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        start_worker: StartWorker) -> None:
    record = tmp_path / "hooks.jsonl"
    broken = make_srpm(package_spec("broken-hooks", build_check="exit 3"), tmp_path / "b")
    good = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    worker = start_worker(env=plugin_env(record))
    assert wait_task(hub, good)["state_name"] == "CLOSED", worker.log()[-3000:]
    bad = build_arch_task(hub, upload_srpm(hub, broken, "cli-build/9.bad"), build_tag)
    assert wait_task(hub, bad)["state_name"] == "FAILED", worker.log()[-3000:]
    calls = recorded(record)

    # Start-up: configuration and registration hooks.
    startup = [c["hook"] for c in calls if "task" not in c]
    for hook in ("adjutant_config_options", "adjutant_container_runtimes",
                 "adjutant_log_sinks"):
        assert hook in startup
    # The passing task: its hooks in the protocol's order, each once.
    order = [c["hook"] for c in calls if c.get("task") == good]
    assert order == ["adjutant_task_started", "adjutant_resolve_image",
                     "adjutant_buildroot_ready", "adjutant_results_collected",
                     "adjutant_task_finished"], order
    [resolve] = [c for c in calls if c["hook"] == "adjutant_resolve_image"
                 and c["task"] == good]
    assert (resolve["arch"], resolve["tag"], resolve["method"]) == \
        ("x86_64", build_tag["name"], "buildArch")
    prepare = [c for c in calls if c["hook"] == "adjutant_prepare_buildroot"]
    assert prepare and all(c["lock_held"] for c in prepare)
    assert prepare[0]["groups"] == ["build"]
    [results] = [c for c in calls if c["hook"] == "adjutant_results_collected"]
    assert results["task"] == good
    assert {"adjutant-hello-1.0-1.noarch.rpm", "adjutant-hello-1.0-1.src.rpm", "build.log",
            "root.log"} <= set(results["files"])
    # The failing task: failed instead of finished, and no results.
    bad_hooks = [c["hook"] for c in calls if c.get("task") == bad]
    assert bad_hooks[0] == "adjutant_task_started"
    assert bad_hooks[-1] == "adjutant_task_failed"
    assert "adjutant_task_finished" not in bad_hooks
    assert "adjutant_results_collected" not in bad_hooks
    assert "%build" in [c for c in calls if c.get("task") == bad][-1]["error"]
    # Every hookspec but the SCM one (its own test below) was seen here.
    specs = {n for n in dir(hookspecs) if n.startswith("adjutant_")}
    assert specs - {c["hook"] for c in calls} <= {"adjutant_scm_fetchers"}
    # --trace-hooks logs each call pluggy makes, in pluggy's order.
    log = worker.log()
    traced = [line.split("hook: ", 1)[1].split()[0] for line in log.splitlines()
              if "hook: " in line and "adjutant_" in line.split("hook: ", 1)[1][:40]]
    for hook in ("adjutant_task_started", "adjutant_resolve_image",
                 "adjutant_prepare_buildroot", "adjutant_buildroot_ready",
                 "adjutant_results_collected", "adjutant_task_finished",
                 "adjutant_task_failed"):
        assert hook in traced, (hook, traced[:40])
    first = {hook: traced.index(hook) for hook in ("adjutant_task_started",
             "adjutant_resolve_image", "adjutant_prepare_buildroot",
             "adjutant_buildroot_ready", "adjutant_results_collected",
             "adjutant_task_finished")}
    assert list(first) == sorted(first, key=first.__getitem__)
    assert f"{koji.pathinfo.taskrelpath(good)}/build.log" in hub.task_result(good)["logs"]


def test_a_site_buildroot_plugin_runs_under_the_core_lock_two_tasks_install_once(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        start_worker: StartWorker) -> None:
    record, made = tmp_path / "hooks.jsonl", tmp_path / "made"
    first = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    second = build_arch_task(hub, upload_srpm(hub, hello_srpm, "cli-build/2.again"),
                             build_tag)
    worker = start_worker(env=plugin_env(record, ADJUTANT_TEST_SITE_BUILDROOT=str(made)),
                          kojid={"maxjobs": 2}, adjutant={"buildroot_cache_enabled": "no"})
    try:
        for task in (first, second):
            assert wait_task(hub, task)["state_name"] == "CLOSED", worker.log()[-3000:]
        site = [c for c in recorded(record) if c["hook"] == "site_buildroot"]
        assert len(site) == 2 and len({c["pid"] for c in site}) == 2  # two task processes
        assert len(made.read_text().split()) == 1  # installed once
        a, b = sorted(site, key=lambda c: c["start"])
        assert a["made"] and not b["made"]
        assert b["start"] >= a["end"]  # the second waited on the core lock
    finally:
        from adjutant.testing.engines import open_engine

        podman = open_engine("podman")
        for name in podman.image_names("localhost/adjutant-task-buildroot"):
            if ":site-" in name:
                podman.remove_image(name, force=False)
        podman.close()
