"""The engine service hangs in the middle of a build.

Issue 14's cases, against the fake hub with real podman:
- the podman service frozen (SIGSTOP) for 90 s in the middle of a 60 s build, with the
  default ``api=60`` bound: conmon keeps the container running and records its exit
  meanwhile; the task closes and its build.log is the container's whole output;
- frozen for longer than the build's timeout: the task fails naming the engine, and the
  worker goes on serving.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.testing.engines import engine_frozen
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import EXAMPLE, build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

TICKS = 300  # one every 0.2 s: a 60 s %build
FREEZE = 90.0


def ticking_srpm(tmp_path: Path, ticks: int) -> Path:
    return make_srpm(
        EXAMPLE.read_text().replace("Name:           adjutant-hello", "Name:           ticking")
        .replace("sh ./hello.sh > greeting.txt",
                 # set +x: the shell's trace (stderr) would split the ticks' lines.
                 f"sh ./hello.sh > greeting.txt\nset +x\nfor i in $(seq 1 {ticks}); do "
                 "echo \"tick $i\"; sleep 0.2; done"),
        tmp_path / "ticking", {"hello.sh": "echo hi\n"})


def wait_for_tick(hub: FakeHub, task_id: int, tick: int, worker: WorkerProcess) -> Path:
    """The hub's build.log of the task, once it shows ``tick N``."""
    hub_log = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/build.log")
    deadline = time.monotonic() + 120
    while not (hub_log.is_file() and f"tick {tick}\n" in hub_log.read_text(errors="replace")):
        assert time.monotonic() < deadline, worker.log()[-3000:]
        assert hub.task(task_id)["state_name"] in ("FREE", "ASSIGNED", "OPEN"), \
            worker.log()[-3000:]
        time.sleep(0.1)
    return hub_log


def test_a_90s_engine_freeze_in_a_60s_build_still_closes_with_the_whole_log(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        podman_runtime: ContainerRuntime, start_worker: Callable[..., WorkerProcess]) -> None:
    ticking = ticking_srpm(tmp_path, TICKS)
    task_id = build_arch_task(hub, upload_srpm(hub, ticking, "cli-build/4.ticking"), build_tag)
    # A host name of its own: other sessions sweeping "builder1" leftovers miss this one.
    worker = start_worker(host="outage1")
    hub_log = wait_for_tick(hub, task_id, 20, worker)
    frozen_at = time.monotonic()
    with engine_frozen(podman_runtime):
        time.sleep(FREEZE)
    task = wait_task(hub, task_id)
    assert task["state_name"] == "CLOSED", worker.log()[-3000:]
    assert time.monotonic() - frozen_at >= FREEZE
    text = hub_log.read_text()
    ticks = re.findall(r"^tick \d+$", text, re.MULTILINE)
    assert ticks == [f"tick {i}" for i in range(1, TICKS + 1)], (ticks, worker.log()[-4000:])
    # The hub's build.log is the container's output: the worker's copy, byte for byte.
    local = list(Path(worker.config.parent, "work").rglob("build.log"))
    if local:
        assert local[0].read_text() == text
    assert "Wrote: /builddir/RPMS/ticking-1.0-1.noarch.rpm" in text


def test_a_freeze_past_the_build_timeout_fails_naming_the_engine_and_the_worker_serves_on(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        podman_runtime: ContainerRuntime, start_worker: Callable[..., WorkerProcess]) -> None:
    ticking = ticking_srpm(tmp_path, 150)  # 30 s, past the 20 s timeout
    task_id = build_arch_task(hub, upload_srpm(hub, ticking, "cli-build/5.ticking"), build_tag)
    worker = start_worker(host="outage2", kojid={"rpmbuild_timeout": 20},
                          adjutant={"container_timeouts": "api=5"})
    wait_for_tick(hub, task_id, 10, worker)
    with engine_frozen(podman_runtime):
        time.sleep(30)
    assert wait_task(hub, task_id)["state_name"] == "FAILED", worker.log()[-3000:]
    with pytest.raises(koji.GenericError, match="podman did not answer"):
        hub.task_result(task_id)
    after = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    assert wait_task(hub, after)["state_name"] == "CLOSED", worker.log()[-3000:]
