"""The worker as kojid's service runs it: kojid's command line and config, graceful
restarts by signal and by ``koji restart-hosts``."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adjutant.config import IGNORED_KOJID_OPTIONS, KOJID_OPTIONS
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import EXAMPLE, build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess, wait_for

StartWorker = Callable[..., WorkerProcess]

#: kojid.service's ExecStart line, as koji ships it.
KOJID_EXECSTART = "/usr/sbin/kojid --fg --force-lock --verbose"
ADJUTANTD = Path(sys.executable).parent / "adjutantd"


def slow_srpm(tmp_path: Path, seconds: int) -> Path:
    spec = EXAMPLE.read_text().replace("Name:           adjutant-hello",
                                       "Name:           slow").replace(
        "sh ./hello.sh > greeting.txt", f"sleep {seconds}\nsh ./hello.sh > greeting.txt")
    return make_srpm(spec, tmp_path / "slow", {"hello.sh": "echo slow\n"})


def test_kojids_unit_command_line_starts_the_worker_and_names_ignored_options(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path) -> None:
    """kojid.conf keeps only [kojid] (kojid refuses other sections); adjutant's settings sit
    in adjutant.conf beside it. ExecStart is kojid's with only the program changed (and -c,
    since the test cannot own /etc/kojid)."""
    from tests.support.worker import write_config

    hub.add_host("builder1", arches=["x86_64", "noarch"], password="pw",
                 channels=["default", "createrepo"])
    combined = write_config(tmp_path / "combined.conf", server=hub.url, topurl=hub.topurl,
                            topdir=hub.topdir, workdir=tmp_path / "work", user="builder1",
                            password="pw", adjutant={"buildroot_cache_enabled": "no"})
    text = combined.read_text()
    kojid_part, adjutant_part = text.split("[adjutant]")
    sample = {bool: "no", int: "1"}
    ignored = {key: sample.get(type(KOJID_OPTIONS[key].default), "x")
               for key in IGNORED_KOJID_OPTIONS}
    conf = tmp_path / "kojid.conf"
    conf.write_text(kojid_part + "".join(f"{k} = {v}\n" for k, v in ignored.items()))
    (tmp_path / "adjutant.conf").write_text("[adjutant]" + adjutant_part)
    program, *args = shlex.split(KOJID_EXECSTART)
    assert program.endswith("/kojid")
    worker = WorkerProcess(conf, tmp_path / "worker.log",
                           argv=[str(ADJUTANTD), *args, "-c", str(conf)]).start()
    try:
        task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
        assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
        log_text = worker.log()
        for key, why in IGNORED_KOJID_OPTIONS.items():
            assert f"[kojid] {key} has no effect in adjutant: {why}" in log_text, key
        # Each line of the task's work names its task.
        assert f"task={task_id} " in log_text
    finally:
        worker.stop()


def test_sigusr1_lets_the_running_build_finish_then_reexecutes_and_serves_on(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        start_worker: StartWorker) -> None:
    slow = build_arch_task(hub, upload_srpm(hub, slow_srpm(tmp_path, 8), "cli-build/4.slow"),
                           build_tag)
    worker = start_worker()
    wait_for(lambda: hub.task(slow)["state_name"] == "OPEN", 120, message="the build to start")
    pid = worker.pid
    os.kill(pid, signal.SIGUSR1)
    assert wait_task(hub, slow)["state_name"] == "CLOSED", worker.log()[-3000:]
    wait_for(lambda: worker.log().count("ready on podman") >= 2, 60,
             message="the worker to re-execute")
    assert "graceful restart requested (SIGUSR1)" in worker.log()
    assert worker.pid == pid and worker.proc is not None and worker.proc.poll() is None
    after = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    assert wait_task(hub, after)["state_name"] == "CLOSED", worker.log()[-3000:]


def test_koji_restart_hosts_restarts_two_adjutant_hosts_and_closes(
        hub: FakeHub, start_worker: StartWorker) -> None:
    first = start_worker("builder1")
    second = start_worker("builder2")
    task_id = hub.make_task("restartHosts", [{"timeout": 300}], priority=5)
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "CLOSED", \
        first.log()[-3000:] + second.log()[-3000:]
    for worker in (first, second):
        assert "restarting:" in worker.log()
        assert worker.proc is not None and worker.proc.poll() is None
    methods = sorted(hub.task(c)["method"] for c in hub.children(task_id))
    assert methods == ["restart", "restart", "restartVerify", "restartVerify"]
    assert all(hub.task(c)["state_name"] == "CLOSED" for c in hub.children(task_id))


@pytest.mark.parametrize("option", ["--user", "--topdir", "--minspace", "--debug-task",
                                    "--skip-main", "-d", "--plugin", "--mockdir"])
def test_every_kojid_option_is_accepted(option: str) -> None:
    from adjutant.cli.run_cmd import kojid_parser

    value = {"--user": ["u"], "--topdir": ["/t"], "--minspace": ["5"], "--plugin": ["p"],
             "--mockdir": ["/m"]}.get(option, [])
    args = kojid_parser().parse_args([option, *value, "--fg", "--force-lock", "--verbose"])
    assert args.fg and args.force_lock and args.verbose
