"""What users install is the wheel: a regular (non-editable) install into a new virtualenv
builds packages and prepares buildroots, with nothing taken from the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.support.cli import wait_for_build_server
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import package_spec
from tests.support.kojisetup import EXAMPLE, build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.wheel import ROOT, build_wheel, install_wheel, run
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel (and the podman extra) installed from PyPI."""
    started = time.monotonic()
    venv = install_wheel(wheel, tmp_path_factory.mktemp("installed"))
    print(f"wheel install took {time.monotonic() - started:.1f}s")
    return venv


def test_the_wheel_carries_every_runtime_file_and_no_test_support(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if "fakehub" in n or n.startswith("tests/")]
    assert {n for n in names if n.startswith("adjutant/testing/")} == {
        "adjutant/testing/__init__.py", "adjutant/testing/conformance.py",
        "adjutant/testing/conformance_errors.py", "adjutant/testing/engines.py"}
    for data in ("adjutant/buildroot/data/install.sh", "adjutant/buildroot/data/inventory.sh",
                 "adjutant/image/data/customize.sh",
                 "adjutant/image/data/adjutant-base-provides.spec", "adjutant/py.typed",
                 "adjutant/deploy/koji-adjutant.service"):
        assert data in names
    scripts = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "adjutant = adjutant.cli.console:run" in scripts
    assert "adjutantd = adjutant.cli.console:run_kojid" in scripts


def test_the_installed_copy_is_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    where = run(venv / "bin/python", "-c", "import adjutant, adjutant_podman; "
                "print(adjutant.__file__); print(adjutant_podman.__file__)", cwd=tmp_path)
    for line in where.split():
        assert line.startswith(str(venv)) and not line.startswith(str(ROOT / "adjutant"))


def test_the_installed_copy_prints_its_systemd_unit(venv: Path, tmp_path: Path) -> None:
    unit = run(venv / "bin/adjutant", "service-unit", cwd=tmp_path)
    assert f"ExecStart={venv}/bin/adjutant run --fg --force-lock --verbose" in unit
    assert "ExecReload=/bin/kill -USR1 $MAINPID" in unit


def test_the_installed_copy_builds_a_package(
        venv: Path, tmp_path: Path, podman_ready: None) -> None:
    run(venv / "bin/adjutant", "build", EXAMPLE, "-o", tmp_path / "out", "--runtime",
        "podman", cwd=tmp_path)
    assert (tmp_path / "out/adjutant-hello-1.0-1.noarch.rpm").is_file()


def test_the_installed_copy_serves_builds_from_its_build_server(
        venv: Path, tmp_path: Path, podman_ready: None) -> None:
    """The first build starts the installed copy's server (``-m`` of the installed
    package, not of the checkout); the second build is served by it."""
    runtime_dir = Path(tempfile.mkdtemp(prefix="abs-", dir="/tmp"))  # short socket path
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "ADJUTANT_NO_BUILD_SERVER": ""}
    try:
        for out in ("first", "second"):
            run(venv / "bin/adjutant", "build", EXAMPLE, "-o", tmp_path / out, "--runtime",
                "podman", cwd=tmp_path, env=env)
            assert (tmp_path / out / "adjutant-hello-1.0-1.noarch.rpm").is_file()
            wait_for_build_server(env, [venv / "bin/adjutant"])
        status = run(venv / "bin/adjutant", "build-server", "status", "--json", cwd=tmp_path,
                     env=env)
        assert json.loads(status)["served"] == 1
        assert json.loads(status)["executable"].startswith(str(venv))
    finally:
        subprocess.run([venv / "bin/adjutant", "build-server", "stop"], env=env, check=False)
        shutil.rmtree(runtime_dir, ignore_errors=True)


def test_the_installed_worker_prepares_a_buildroot_and_builds(
        venv: Path, hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker) -> None:
    srpm = make_srpm(package_spec("wheel-user", build_requires=["adjutant-tool"],
                                  build_check="cat /usr/share/adjutant-tool/marker"),
                     tmp_path / "wheel-user")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), build_tag)
    worker = start_worker(program=[str(venv / "bin/adjutantd")])
    assert wait_task(hub, task_id, timeout=240)["state_name"] == "CLOSED", worker.log()[-3000:]
    taskdir = hub.work_path(koji.pathinfo.taskrelpath(task_id))
    assert "installing from repo" in (taskdir / "root.log").read_text()
    assert "1.0-1" in (taskdir / "build.log").read_text()
