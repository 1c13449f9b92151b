"""``adjutant build`` through a build server, on real engines with real rpmbuild: the same
build as in its own process, its output on the command's terminal, its status the
command's, and an interrupted or vanished command leaves no container behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjutant.build.local import LOCAL_LABEL
from adjutant.buildserver.client import OPT_OUT
from adjutant.container.runtime import ContainerRuntime
from tests.support.cli import adjutant, wait_for_build_server
from tests.support.kojisetup import EXAMPLE

pytestmark = pytest.mark.engine



@pytest.fixture(scope="module")
def server_env() -> Iterator[dict[str, str]]:
    """A running build server, in a runtime directory of its own (short: socket paths
    have a 108-byte limit)."""
    runtime_dir = tempfile.mkdtemp(prefix="abs-", dir="/tmp")
    env = {"XDG_RUNTIME_DIR": runtime_dir, OPT_OUT: ""}
    started = adjutant("build-server", "start", "--idle-timeout", "900", env=env)
    assert started.returncode == 0, started.stderr
    assert "listening on" in started.stdout
    yield env
    adjutant("build-server", "stop", env=env)
    shutil.rmtree(runtime_dir, ignore_errors=True)


def _served(env: dict[str, str]) -> int:
    status = adjutant("build-server", "status", env=env)
    assert status.returncode == 0, status.stdout
    return int(status.stdout.split("builds served ")[1].split(",")[0])


def test_a_served_build_is_the_build_of_its_own_process(
        engine: ContainerRuntime, server_env: dict[str, str], tmp_path: Path) -> None:
    before = _served(server_env)
    served = adjutant("build", EXAMPLE, "-o", "served", "--runtime", engine.name,
                      env=server_env, cwd=tmp_path)
    assert served.returncode == 0, served.stderr
    assert _served(server_env) == before + 1
    alone = adjutant("build", EXAMPLE, "-o", "alone", "--runtime", engine.name,
                     env={**server_env, OPT_OUT: "1"}, cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert _served(server_env) == before + 1
    names = sorted(p.name for p in (tmp_path / "served").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "alone").iterdir())
    assert "adjutant-hello-1.0-1.noarch.rpm" in names
    # The summary reached the command's own output, with the relative path resolved in
    # the command's directory.
    assert f"  {tmp_path}/served/adjutant-hello-1.0-1.noarch.rpm" in served.stdout
    assert "Hello from a koji-adjutant container build." in \
        (tmp_path / "served/build.log").read_text()


def test_a_served_build_that_fails_says_where_and_leaves_no_container(
        engine: ContainerRuntime, server_env: dict[str, str], tmp_path: Path) -> None:
    spec = _spec(tmp_path, "broken", "echo 'compiler says: no' >&2\nexit 4")
    before = _served(server_env)
    proc = adjutant("build", spec, "-o", tmp_path / "out", "--runtime", engine.name,
                    env=server_env)
    assert _served(server_env) == before + 1
    assert proc.returncode == 1
    assert "build failed at step %build" in proc.stderr
    assert "compiler says: no" in proc.stderr
    assert engine.list_containers({LOCAL_LABEL: "true"}) == []


@pytest.mark.parametrize("how", ["interrupted", "killed", "terminated", "terminated alone"])
def test_a_build_whose_command_ends_removes_its_container(
        engine: ContainerRuntime, server_env: dict[str, str], tmp_path: Path,
        how: str) -> None:
    """Ctrl-C, SIGKILL or SIGTERM to a served build's command, and SIGTERM to a build in
    its own process (``alone``): the build stops and its container is removed."""
    spec = _spec(tmp_path, f"slow-{how.replace(' ', '-')}", "sleep 600")
    alone = {OPT_OUT: "1"} if how.endswith("alone") else {}
    before = _served(server_env)
    command = subprocess.Popen(
        [sys.executable, "-m", "adjutant.cli.main", "build", str(spec), "-o",
         str(tmp_path / "out"), "--runtime", engine.name],
        env={**os.environ, **server_env, **alone}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not engine.list_containers({LOCAL_LABEL: "true"}):
            assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline, "the build's container never appeared"
            time.sleep(0.2)
        time.sleep(1)  # into the build, past the container's start
        assert _served(server_env) == before + (0 if alone else 1)
        if how == "interrupted":
            command.send_signal(signal.SIGINT)
            _, err = command.communicate(timeout=120)
            assert command.returncode == 130, err
            assert "interrupted" in err
        elif how == "killed":
            command.kill()
            command.wait(30)
        else:
            command.send_signal(signal.SIGTERM)
            _, err = command.communicate(timeout=120)
            assert command.returncode == 143, err
        deadline = time.monotonic() + 120
        while engine.list_containers({LOCAL_LABEL: "true"}):
            assert time.monotonic() < deadline, "the build's container was left behind"
            time.sleep(0.2)
    finally:
        command.kill()
        command.wait()


def _spec(tmp_path: Path, name: str, build: str) -> Path:
    spec = tmp_path / "src" / f"{name}.spec"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(EXAMPLE.read_text()
                    .replace("Name:           adjutant-hello", f"Name:           {name}")
                    .replace("sh ./hello.sh > greeting.txt", build))
    (spec.parent / "hello.sh").write_text("echo hi\n")
    return spec


def test_the_server_runs_nothing_but_builds(server_env: dict[str, str]) -> None:
    """A request of another command (``adjutant build`` never sends one) is refused by
    the served command line itself, which knows only ``build``."""
    program = ("import sys; from adjutant.buildserver.client import served; "
               "code = served(['service-unit']); sys.exit(99 if code is None else code)")
    before = _served(server_env)
    done = subprocess.run([sys.executable, "-c", program], env={**os.environ, **server_env},
                          capture_output=True, text=True, timeout=60, check=False)
    assert _served(server_env) == before + 1
    assert done.returncode == 2
    assert "invalid choice: 'service-unit' (choose from 'build')" in done.stderr
    assert "ExecStart" not in done.stdout


@pytest.mark.parametrize("opted_out", [False, True])
def test_a_build_that_finds_no_server_starts_one_for_the_next(
        engine: ContainerRuntime, tmp_path: Path, opted_out: bool) -> None:
    """The first build runs in its own process and then sets a server off in the
    background, saying so; the next build is served. With the opt-out set, none."""
    runtime_dir = tempfile.mkdtemp(prefix="abs-", dir="/tmp")
    env = {"XDG_RUNTIME_DIR": runtime_dir, OPT_OUT: "1" if opted_out else ""}
    try:
        first = adjutant("build", EXAMPLE, "-o", "first", "--runtime", engine.name,
                         env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        if opted_out:
            assert "build server" not in first.stderr
            time.sleep(1)
            assert adjutant("build-server", "status", env=env).returncode == 1
            return
        assert "started a build server" in first.stderr
        wait_for_build_server(env)
        assert _served(env) == 0
        second = adjutant("build", EXAMPLE, "-o", "second", "--runtime", engine.name,
                          env=env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "build server" not in second.stderr
        assert _served(env) == 1
        assert (tmp_path / "second/adjutant-hello-1.0-1.noarch.rpm").is_file()
    finally:
        adjutant("build-server", "stop", env=env)
        shutil.rmtree(runtime_dir, ignore_errors=True)


def test_a_build_says_why_it_started_no_server(engine: ContainerRuntime,
                                               tmp_path: Path) -> None:
    """A socket directory others may enter is never used: the build says so (and how
    to stop the attempts) instead of starting a server there."""
    runtime_dir = tmp_path / "run"
    (runtime_dir / "koji-adjutant").mkdir(parents=True)
    (runtime_dir / "koji-adjutant").chmod(0o777)
    done = adjutant("build", tmp_path / "missing.src.rpm", "--runtime", engine.name,
                    env={"XDG_RUNTIME_DIR": str(runtime_dir), OPT_OUT: ""})
    assert done.returncode == 1
    assert "does not exist" in done.stderr
    assert "no build server started for the next builds" in done.stderr
    assert "open to other users (mode 777)" in done.stderr
    assert list((runtime_dir / "koji-adjutant").iterdir()) == []


def test_after_the_servers_warm_up_a_build_loads_nothing(
        engine: ContainerRuntime, tmp_path: Path) -> None:
    """Whatever a build imports on its way (the SBOM's modules, an SRPM's header...) the
    server has loaded before it forks, so that no served build pays for it."""
    program = f"""
import contextlib, io, sys
from adjutant.cli import build_cmd
from adjutant.cli.build_run import warm_up
from adjutant.cli.main import main, make_parser
warm_up()
before = set(sys.modules)
with contextlib.redirect_stdout(io.StringIO()) as out, \\
        contextlib.redirect_stderr(io.StringIO()) as err:
    code = main(["build", {str(EXAMPLE)!r}, "-o", {str(tmp_path / "out")!r}, "--runtime",
                 {engine.name!r}], make_parser((build_cmd,)))
assert code == 0, err.getvalue()
print(" ".join(sorted(set(sys.modules) - before)))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ,
                                                         "ADJUTANT_RUNTIME": engine.name})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
