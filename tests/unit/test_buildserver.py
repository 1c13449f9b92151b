"""The build server's protocol and process handling, with real processes and signals.

The server here runs a stand-in command line (tests/support/buildserver_main.py) so that
these run in seconds; tests/cli/test_build_server.py builds through it on real engines.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjutant.buildserver import control
from adjutant.buildserver.server import BuildServer, ServerError
from adjutant.buildserver.wire import Lines, Request, private_dir_problem, socket_path
from adjutant.cli.console import _servable

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import sys
from adjutant.buildserver.server import BuildServer
from tests.support.buildserver_main import main
BuildServer(sys.argv[1], main, float(sys.argv[2])).serve_forever()
"""
CLIENT = """
import sys
from adjutant.buildserver.client import served
code = served(sys.argv[2:], sys.argv[1])
sys.exit(99 if code is None else code)
"""


class Server:
    def __init__(self, directory: str, process: subprocess.Popen[bytes]) -> None:
        self.directory = directory
        self.process = process

    def client(self, *argv: str, cwd: Path | None = None,
               env: dict[str, str] | None = None, umask: int = -1) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", CLIENT, self.directory, *argv],
                                cwd=cwd or ROOT, env={**os.environ, **(env or {})},
                                umask=umask, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


def _start(directory: str, idle: float = 0.0, extra_path: Path | None = None) -> Server:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = f"{extra_path}:{env.get('PYTHONPATH', '')}"
    process = subprocess.Popen([sys.executable, "-c", SERVER, directory, str(idle)],
                               cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while control.status(directory) is None:
        assert process.poll() is None, "the server exited at start"
        assert time.monotonic() < deadline, "the server did not listen in 30 s"
        time.sleep(0.05)
    return Server(directory, process)


@pytest.fixture
def directory() -> Iterator[str]:
    # Short: a unix socket's path has a 108-byte limit that pytest's tmp_path can pass.
    path = tempfile.mkdtemp(prefix="abs-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(directory: str) -> Iterator[Server]:
    started = _start(directory)
    yield started
    started.process.terminate()
    started.process.wait(10)


def _wait_for(path: Path, seconds: float = 15) -> str:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear in {seconds} s"
        time.sleep(0.05)
    time.sleep(0.05)
    return path.read_text()


def test_a_request_survives_the_wire_byte_for_byte() -> None:
    request = Request("build", "/venv/bin/python", "/home/p/src", 0o027,
                      ("build", "föö.src.rpm", os.fsdecode(b"\xff-raw"), ""),
                      (b"A=1", b"B=with=equals", b"RAW=\xfe\xff"))
    encoded = request.encode()
    decoded = Request.decode(encoded[4:])
    assert int.from_bytes(encoded[:4], "big") == len(encoded) - 4
    assert (decoded.kind, decoded.executable, decoded.cwd, decoded.umask, decoded.argv) == \
        (request.kind, request.executable, request.cwd, request.umask, request.argv)
    assert decoded.environment() == {b"A": b"1", b"B": b"with=equals", b"RAW": b"\xfe\xff"}


@pytest.mark.parametrize("body", [b"other/1\0build", b"adjutant-build/1\0rm\0a\0b\x000\x000",
                                  b"adjutant-build/1\0build\0a\0b\x0022\x009"])
def test_a_malformed_request_is_refused_by_name(body: bytes) -> None:
    with pytest.raises(ValueError):
        Request.decode(body)


def test_only_a_private_directory_of_ours_may_hold_the_socket(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    assert private_dir_problem(str(private)) is None
    assert "does not exist" in str(private_dir_problem(str(tmp_path / "missing")))
    (tmp_path / "link").symlink_to(private)
    assert "not a directory" in str(private_dir_problem(str(tmp_path / "link")))
    (tmp_path / "file").write_text("")
    assert "not a directory" in str(private_dir_problem(str(tmp_path / "file")))
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert "open to other users (mode 755)" in str(private_dir_problem(str(shared)))
    with pytest.raises(ServerError, match="open to other users"):
        BuildServer(str(shared), lambda argv: 0)


def test_only_build_without_an_interactive_shell_goes_to_a_server() -> None:
    assert _servable(["build", "foo.src.rpm"])
    assert _servable(["-v", "build", "foo.src.rpm", "-o", "out"])
    assert not _servable(["build", "foo.src.rpm", "--shell"])
    assert not _servable(["cache", "list"])
    assert not _servable(["--debug", "run", "--fg"])
    assert not _servable([])


def test_the_build_runs_as_the_command_would(server: Server, tmp_path: Path) -> None:
    done = server.client("cwd", "env:ONLY_IN_CLIENT", "env:HOME", "umask", "err:to stderr",
                         "exit:3", cwd=tmp_path, umask=0o027,
                         env={"ONLY_IN_CLIENT": "yes", "HOME": str(tmp_path)})
    out, err = done.communicate(timeout=30)
    assert done.returncode == 3, err
    assert out.splitlines() == [f"cwd={tmp_path}", "ONLY_IN_CLIENT=yes",
                                f"HOME={tmp_path}", "umask=27"]
    assert err == "to stderr\n"
    state = control.status(server.directory)
    assert state is not None and state["served"] == 1 and state["pid"] == server.process.pid


@pytest.mark.parametrize(("sig", "code", "seen"), [
    (signal.SIGINT, 130, "KeyboardInterrupt"),
    (signal.SIGTERM, 143, "SystemExit 143"),
    (signal.SIGHUP, 129, "SystemExit 129"),
])
def test_a_signal_to_the_command_unwinds_the_build(
        server: Server, tmp_path: Path, sig: int, code: int, seen: str) -> None:
    marker = tmp_path / "running"
    client = server.client(f"wait:{marker}")
    child = int(_wait_for(marker))
    assert child not in (client.pid, server.process.pid)
    client.send_signal(sig)
    _, err = client.communicate(timeout=30)
    assert client.returncode == code, err
    assert _wait_for(marker.with_suffix(".cleaned")) == seen


def test_a_command_that_vanishes_stops_its_build(server: Server, tmp_path: Path) -> None:
    marker = tmp_path / "running"
    client = server.client(f"wait:{marker}")
    _wait_for(marker)
    client.kill()
    client.wait(10)
    assert _wait_for(marker.with_suffix(".cleaned")) == "SystemExit 143"


def test_changed_code_is_refused_and_the_server_stops(directory: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    server = _start(directory, extra_path=site)
    try:
        assert server.client("exit:0").wait(30) == 0
        time.sleep(0.01)
        (site / "newly_installed.py").write_text("")
        refused = server.client("exit:0")
        _, err = refused.communicate(timeout=30)
        assert refused.returncode == 99  # served() said None: the command builds itself
        assert "the installed code changed since it started" in err
        assert str(site) in err and "building here" in err
        assert server.process.wait(15) == 0
        assert not os.path.exists(socket_path(directory))
    finally:
        server.process.kill()
        server.process.wait()


def test_a_request_from_another_interpreter_is_refused(server: Server) -> None:
    request = Request("build", "/elsewhere/bin/python", "/", 0o22, ("build", "x"), ())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path(server.directory))
        data = request.encode()
        socket.send_fds(sock, [data[:1]], [0, 1, 2])
        sock.sendall(data[1:])
        answer = Lines(sock).next()
    assert answer == f"refused it serves {sys.executable}, not /elsewhere/bin/python"


def test_a_socket_in_a_directory_others_may_enter_is_not_used(server: Server) -> None:
    os.chmod(server.directory, 0o755)
    try:
        done = server.client("exit:0")
        done.communicate(timeout=30)
        assert done.returncode == 99
    finally:
        os.chmod(server.directory, 0o700)
    assert server.client("exit:0").wait(30) == 0


def test_an_idle_server_stops_and_removes_its_socket(directory: str) -> None:
    server = _start(directory, idle=0.5)
    try:
        assert server.process.wait(15) == 0
        assert not os.path.exists(socket_path(directory))
    finally:
        server.process.kill()


def test_stop_ends_the_server_and_a_second_is_refused_while_one_listens(
        server: Server) -> None:
    with pytest.raises(ServerError, match="already listens"):
        BuildServer(server.directory, lambda argv: 0)
    assert control.stop(server.directory)
    assert server.process.wait(15) == 0
    assert control.status(server.directory) is None
    assert not control.stop(server.directory)
