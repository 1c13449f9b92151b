"""A worker started while its engine is down waits for it, saying so, instead of exiting;
it never starts an engine service of its own (the host's service manager owns it)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.fakehub import FakeHub
from tests.support.kojisetup import build_arch_task, upload_srpm, wait_task
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]


def test_a_worker_waits_for_an_engine_that_is_not_up_yet_then_serves(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        start_worker: StartWorker) -> None:
    sock = tmp_path / "late-podman.sock"
    worker = start_worker("waiter1", adjutant={"podman_url": f"unix://{sock}",
                                               "engine_wait_log_interval": 2})
    wait_for(lambda: "waiting for it" in worker.log(), 30,
             message="the worker to say it waits for the engine")
    # Said again, at its interval (it tries every 5 s, so each try says it once more).
    wait_for(lambda: worker.log().count("waiting for it") >= 2, 30,
             message="the worker to say again that it waits for the engine")
    assert worker.proc is not None and worker.proc.poll() is None, worker.log()[-2000:]
    assert not sock.exists()  # the worker started no service of its own
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"], cwd="/",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
        assert wait_task(hub, task_id, timeout=180)["state_name"] == "CLOSED", \
            worker.log()[-3000:]
        assert "answers now" in worker.log()
    finally:
        worker.stop()
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(30)
