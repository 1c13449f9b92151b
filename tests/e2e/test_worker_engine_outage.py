"""The engine service hangs in the middle of a build: the build still closes, whole.

Issue 14's case is a podman service frozen for 90 s in the middle of a 60 s build with the
default ``api=60`` bound. Scaled down here with the same proportions that matter (the
freeze outlasts both the ``api`` bound and the rest of the build): a 20 s %build, the
podman service frozen (SIGSTOP) for 30 s from its 4th second, ``container_timeouts``
``api=5``. conmon keeps the container running and records its exit meanwhile.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji

from adjutant.container.runtime import ContainerRuntime
from adjutant.testing.engines import engine_frozen
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import EXAMPLE, build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

TICKS = 100  # one every 0.2 s: a 20 s %build
FREEZE = 30.0


def test_a_30s_engine_freeze_in_a_20s_build_still_closes_with_the_whole_log(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        podman_runtime: ContainerRuntime, start_worker: Callable[..., WorkerProcess]) -> None:
    ticking = make_srpm(
        EXAMPLE.read_text().replace("Name:           adjutant-hello", "Name:           ticking")
        .replace("sh ./hello.sh > greeting.txt",
                 # set +x: the shell's trace (stderr) would split the ticks' lines.
                 f"sh ./hello.sh > greeting.txt\nset +x\nfor i in $(seq 1 {TICKS}); do "
                 "echo \"tick $i\"; sleep 0.2; done"),
        tmp_path / "ticking", {"hello.sh": "echo hi\n"})
    task_id = build_arch_task(hub, upload_srpm(hub, ticking, "cli-build/4.ticking"), build_tag)
    # A host name of its own: other sessions sweeping "builder1" leftovers miss this one.
    worker = start_worker(host="outage1", adjutant={"container_timeouts": "api=5"})
    hub_log = hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/build.log")
    deadline = time.monotonic() + 120
    while not (hub_log.is_file() and "tick 20" in hub_log.read_text(errors="replace")):
        assert time.monotonic() < deadline, worker.log()[-3000:]
        assert hub.task(task_id)["state_name"] in ("FREE", "ASSIGNED", "OPEN"), \
            worker.log()[-3000:]
        time.sleep(0.1)
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
