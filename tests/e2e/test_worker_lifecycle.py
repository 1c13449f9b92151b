"""Cancel, crash and restart, live logs, several hosts: the worker as an operator sees it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.testing.engines import open_engine
from adjutant.worker.buildroot import TASK_IMAGE_REPO, task_image_ref
from adjutant.worker.labels import host_selector
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import (
    EXAMPLE,
    build_arch_task,
    make_srpm,
    upload_srpm,
    wait_task,
)
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]


def slow_spec(seconds: int, name: str = "slow") -> str:
    """A package whose %build prints a line per second for ``seconds`` seconds."""
    loop = (f"for i in $(seq 1 {seconds}); do echo \"building step $i\"; sleep 1; done")
    return (EXAMPLE.read_text()
            .replace("Name:           adjutant-hello", f"Name:           {name}")
            .replace("sh ./hello.sh > greeting.txt", f"{loop}\nsh ./hello.sh > greeting.txt"))


@pytest.fixture
def slow_srpm(tmp_path: Path, podman_ready: None) -> Path:
    return make_srpm(slow_spec(60), tmp_path / "slow", {"hello.sh": "echo hi\n"})


@pytest.fixture
def podman() -> ContainerRuntime:
    return open_engine("podman")


def containers_of(runtime: ContainerRuntime, host: str) -> list[Any]:
    return runtime.list_containers(host_selector(host))


def test_cancel_during_build_removes_the_container_quickly(
        hub: FakeHub, build_tag: dict[str, Any], slow_srpm: Path, start_worker: StartWorker,
        podman: ContainerRuntime) -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, slow_srpm), build_tag)
    worker = start_worker()
    wait_for(lambda: containers_of(podman, "builder1"), 60, message="the build container")
    wait_for(lambda: "building step 2" in _hub_log(hub, task_id, "build.log"), 30,
             message="the build to be under way")
    hub.cancel_task(task_id)
    cancelled = time.monotonic()
    wait_for(lambda: not containers_of(podman, "builder1"), 5, interval=0.05,
             message="the container to be removed within 5 s of the cancel")
    assert time.monotonic() - cancelled < 5
    assert hub.task(task_id)["state_name"] == "CANCELED"
    # The worker keeps serving.
    assert worker.proc is not None and worker.proc.poll() is None


def test_build_log_is_readable_on_the_hub_and_the_heartbeat_goes_on_during_the_build(
        hub: FakeHub, build_tag: dict[str, Any], slow_srpm: Path, start_worker: StartWorker) \
        -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, slow_srpm), build_tag)
    start_worker()
    # Read it the way a user would: downloadTaskOutput through the hub.
    session = hub.client()
    wait_for(lambda: b"building step 3" in _download(session, task_id, "build.log"), 60,
             message="build.log to show progress on the hub")
    assert hub.task(task_id)["state_name"] == "OPEN"
    assert "root.log" in session.listTaskOutput(task_id)
    # The heartbeat goes on while the build runs.
    beats = hub.calls["host.updateHost"]
    wait_for(lambda: hub.calls["host.updateHost"] >= beats + 2, 10,
             message="heartbeats during the build")
    assert hub.task(task_id)["state_name"] == "OPEN"
    hub.cancel_task(task_id)


def test_sigkill_then_restart_removes_old_containers_and_rebuilds_the_task(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path, start_worker: StartWorker,
        podman: ContainerRuntime) -> None:
    srpm = make_srpm(slow_spec(8, "restarted"), tmp_path / "restart", {"hello.sh": "echo hi\n"})
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), build_tag)
    first = start_worker()
    wait_for(lambda: containers_of(podman, "builder1"), 60, message="the build container")
    old = {c.id for c in containers_of(podman, "builder1")}
    first.kill()
    # As if a task process had been killed before it could drop its image's name.
    stale = task_image_ref("builder1", 999)
    podman.tag_image(DEFAULT_IMAGE, stale)

    second = start_worker(add_host=False)
    wait_for(lambda: not (old & {c.id for c in containers_of(podman, "builder1")}), 30,
             message="the old run's container to be removed")
    wait_for(lambda: stale not in podman.image_names(TASK_IMAGE_REPO), 30,
             message="the stale task image to be removed")
    task = wait_task(hub, task_id, timeout=120)
    assert task["state_name"] == "CLOSED", second.log()[-3000:]
    states = hub.history.task_states(task_id)
    assert "FREE" in states[states.index("OPEN"):], states  # freed after the restart
    result = hub.task_result(task_id)
    assert result["rpms"][0].endswith("restarted-1.0-1.noarch.rpm")


def test_sigterm_stops_the_worker_cleanly_and_frees_its_task(
        hub: FakeHub, build_tag: dict[str, Any], slow_srpm: Path, start_worker: StartWorker,
        podman: ContainerRuntime) -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, slow_srpm), build_tag)
    worker = start_worker()
    wait_for(lambda: "building step 2" in _hub_log(hub, task_id, "build.log"), 60,
             message="the build to be under way")
    assert worker.stop(timeout=30) == 0, worker.log()[-3000:]
    assert containers_of(podman, "builder1") == []
    assert hub.task(task_id)["state_name"] == "FREE"  # given back for another host
    host = hub.host(hub.task(task_id)["host_id"] or 1)
    assert host["ready"] is False
    assert not [s for s in hub.sessions("builder1") if not s["closed"]]  # logged out


def test_two_hosts_share_the_queue_and_no_task_runs_twice(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, start_worker: StartWorker) \
        -> None:
    srpm_rel = upload_srpm(hub, hello_srpm)
    tasks = [build_arch_task(hub, srpm_rel, build_tag) for _ in range(6)]
    start_worker("builder1")
    start_worker("builder2")
    for task_id in tasks:
        assert wait_task(hub, task_id)["state_name"] == "CLOSED"
    hosts = {hub.task(t)["host_id"] for t in tasks}
    assert len(hosts) == 2, "both hosts should have taken tasks"
    for task_id in tasks:
        assert hub.history.task_states(task_id).count("OPEN") == 1
        assert len(hub.buildroots(task_id)) == 1


def test_unsupported_methods_are_refused_for_other_hosts(
        hub: FakeHub, start_worker: StartWorker) -> None:
    # runroot is the runroot plugin's now; image builds are handled nowhere in adjutant.
    task_id = hub.make_task("createImage", ["name", "1.0", "1", "x86_64"], arch="x86_64")
    start_worker()
    wait_for(lambda: hub.refusals(task_id), 30, message="a refusal")
    refusal = hub.refusals(task_id)[0]
    assert refusal["msg"] == "no handler for method" and not refusal["soft"]
    assert hub.task(task_id)["state_name"] == "FREE"


def _download(session: koji.ClientSession, task_id: int, name: str) -> bytes:
    try:
        return session.downloadTaskOutput(task_id, name)  # type: ignore[no-any-return]
    except koji.GenericError:
        return b""


def _hub_log(hub: FakeHub, task_id: int, name: str) -> str:
    path = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{name}")
    return path.read_text(errors="replace") if path.exists() else ""
