"""The build server's protocol and process handling, with real processes and signals.

The server here runs a stand-in command line (tests/support/buildserver_main.py) so that
these run in seconds; tests/cli/test_build_server.py builds through it on real engines.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import pty
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adjutant.buildserver import control
from adjutant.buildserver.client import OPT_OUT
from adjutant.buildserver.server import BuildServer, ServerError
from adjutant.buildserver.wire import Lines, Request, private_dir_problem, request_for, socket_path
from adjutant.cli.console import _servable

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import sys
from adjutant.buildserver.server import BuildServer
from adjutant.buildserver.wire import identity, import_path
from tests.support.buildserver_main import main
sys.path[:] = import_path()
BuildServer(sys.argv[1], main, identity(sys.path), float(sys.argv[2])).serve_forever()
"""
CLIENT = """
import os, sys
from adjutant.buildserver.client import served
if os.environ.get("CLOSE_STDIN"):
    os.close(0)
code = served(sys.argv[2:], sys.argv[1])
sys.exit(99 if code is None else code)
"""


class Server:
    def __init__(self, directory: str, process: subprocess.Popen[bytes],
                 env: dict[str, str]) -> None:
        self.directory = directory
        self.process = process
        self.env = env  # what a client needs of the server's environment

    def client(self, *argv: str, cwd: Path | None = None,
               env: dict[str, str] | None = None, umask: int = -1,
               preexec: Callable[[], None] | None = None,
               stdout: int = subprocess.PIPE) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", CLIENT, self.directory, *argv],
                                cwd=cwd or ROOT,
                                env={**os.environ, OPT_OUT: "", **self.env, **(env or {})},
                                umask=umask, stdout=stdout, stderr=subprocess.PIPE,
                                text=True, preexec_fn=preexec)


def _start(directory: str, idle: float = 0.0, extra_path: Path | None = None,
           preexec: Callable[[], None] | None = None) -> Server:
    extra = {"PYTHONPATH": f"{extra_path}:{os.environ.get('PYTHONPATH', '')}"} \
        if extra_path else {}
    process = subprocess.Popen([sys.executable, "-c", SERVER, directory, str(idle)],
                               cwd=ROOT, env={**os.environ, **extra}, preexec_fn=preexec)
    deadline = time.monotonic() + 30
    while control.status(directory) is None:
        assert process.poll() is None, "the server exited at start"
        assert time.monotonic() < deadline, "the server did not listen in 30 s"
        time.sleep(0.05)
    return Server(directory, process, extra)


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
    request = Request("build", "/venv/bin/python\ngid 1 groups 1,2", "/home/p/src", 0o027, 5,
                      ("RLIMIT_NOFILE=1024:4096", "RLIMIT_CORE=0:-1"),
                      "utf-8:strict:latin-1:replace:utf-8:backslashreplace",
                      ("build", "föö.src.rpm", os.fsdecode(b"\xff-raw"), ""),
                      (b"A=1", b"B=with=equals", b"RAW=\xfe\xff"))
    encoded = request.encode()
    decoded = Request.decode(encoded[4:])
    assert int.from_bytes(encoded[:4], "big") == len(encoded) - 4
    for field in Request.__slots__:
        assert getattr(decoded, field) == getattr(request, field), field
    assert decoded.environment() == {b"A": b"1", b"B": b"with=equals", b"RAW": b"\xfe\xff"}
    assert decoded.resource_limits() == {"RLIMIT_NOFILE": (1024, 4096), "RLIMIT_CORE": (0, -1)}


@pytest.mark.parametrize(("body", "problem"), [
    (b"adjutant-build/1\0build\0i\0/\x0022\x000\0\0s\x000", "not a build server request"),
    (b"adjutant-build/2\0rm\0i\0/\x0022\x000\0\0s\x000", "unknown request kind 'rm'"),
    (b"adjutant-build/2\0build\0i\0/\x0022\x000\0\0s\x009", "argument count 9 out of range"),
])
def test_a_malformed_request_is_refused_by_name(body: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
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
        BuildServer(str(shared), lambda argv: 0, "")


def test_only_build_without_an_interactive_shell_goes_to_a_server() -> None:
    assert _servable(["build", "foo.src.rpm"])
    assert _servable(["-v", "build", "foo.src.rpm", "-o", "out"])
    assert not _servable(["build", "foo.src.rpm", "--shell"])
    assert not _servable(["build", "foo.src.rpm", "--sh"])  # argparse's abbreviation
    assert _servable(["build", "foo.src.rpm", "--srpm-only"])
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
        assert str(site) in err and "building in this process" in err
        assert server.process.wait(15) == 0
        assert not os.path.exists(socket_path(directory))
    finally:
        server.process.kill()
        server.process.wait()


def test_a_request_from_another_interpreter_is_refused(server: Server) -> None:
    own = request_for("build", ("build", "x"))
    request = Request("build", own.identity.replace(sys.executable, "/elsewhere/bin/python"),
                      "/", 0o22, 0, (), own.streams, ("build", "x"), ())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path(server.directory))
        data = request.encode()
        socket.send_fds(sock, [data[:1]], [0, 1, 2])
        sock.sendall(data[1:])
        answer = Lines(sock).next()
    assert answer == ("refused the command's interpreter differs from the server's "
                      f"(/elsewhere/bin/python, not {sys.executable})")


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
        BuildServer(server.directory, lambda argv: 0, "")
    assert control.stop(server.directory)
    assert server.process.wait(15) == 0
    assert control.status(server.directory) is None
    assert not control.stop(server.directory)


def test_the_child_takes_the_commands_limits_niceness_and_time_zone(
        server: Server) -> None:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 512))
        os.nice(5)

    done = server.client("limit:RLIMIT_NOFILE", "nice", "tz", preexec=lower,
                         env={"TZ": "JST-9"})
    out, err = done.communicate(timeout=30)
    assert done.returncode == 0, err
    assert out.splitlines() == ["RLIMIT_NOFILE=256:512", "nice=5", "tz=JST"]
    assert control.status(server.directory)["served"] == 1  # type: ignore[index]


def test_a_command_the_child_cannot_become_is_refused_and_builds_itself(
        directory: str, tmp_path: Path) -> None:
    server = _start(directory, preexec=lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (256, 512)))
    try:
        done = server.client("exit:0")  # this process's hard limit is above 512
        _, err = done.communicate(timeout=30)
        assert done.returncode == 99
        assert "the command's RLIMIT_NOFILE" in err and "hard limit (512)" in err
        assert "building in this process" in err
        other_path = server.client("exit:0", env={"PYTHONPATH": str(tmp_path)})
        _, err = other_path.communicate(timeout=30)
        assert other_path.returncode == 99
        assert "import path differs from the server's (PYTHONPATH?)" in err
        assert control.status(directory)["served"] == 0  # type: ignore[index]
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_the_build_writes_to_the_commands_terminal_in_its_encoding(server: Server) -> None:
    leader, follower = pty.openpty()
    try:
        done = server.client("tty", "print:é", stdout=follower,
                             env={"PYTHONIOENCODING": "latin-1"})
        os.close(follower)
        _, err = done.communicate(timeout=30)
        assert done.returncode == 0, err
        output = b""
        with contextlib.suppress(OSError):  # EIO once the terminal's last writer is gone
            while chunk := os.read(leader, 1024):
                output += chunk
    finally:
        os.close(leader)
    head, _, rest = output.replace(b"\r\n", b"\n").partition(b"encoding=")
    name, _, text = rest.partition(b"\n")
    assert head == b"tty=True " and codecs.lookup(name.decode()).name == "iso8859-1"
    assert text == b"\xe9\n"  # é, in latin-1


def test_a_command_with_a_closed_standard_stream_builds_itself(server: Server) -> None:
    done = server.client("exit:0", env={"CLOSE_STDIN": "1"})
    done.communicate(timeout=30)
    assert done.returncode == 99
    assert control.status(server.directory)["served"] == 0  # type: ignore[index]


def test_an_unusable_runtime_directory_means_no_server(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": "/etc/passwd"}
    for argv in (["build-server", "status"], ["build-server", "stop"]):
        done = subprocess.run([sys.executable, "-m", "adjutant.cli.main", *argv], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert "no build server is running" in done.stdout + done.stderr


def test_a_command_line_that_builds_nothing_starts_no_server(tmp_path: Path) -> None:
    """A build that found no server starts one when it is done (tests/cli has that on
    real engines); a usage error, or ``--help``, is no build and starts none."""
    runtime_dir = tmp_path / "run"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), OPT_OUT: ""}
    for argv, code in ((["build", "--no-such-option"], 2), (["build", "--help"], 0)):
        done = subprocess.run([sys.executable, "-m", "adjutant.cli.main", *argv], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == code, done.stderr
        assert "build server" not in done.stderr
    assert not runtime_dir.exists()


def test_the_peer_must_be_this_user_on_both_sides(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from adjutant.buildserver import client as client_module
    from adjutant.buildserver import server as server_module

    assert client_module.connect(server.directory) is not None
    monkeypatch.setattr(client_module, "peer_uid", lambda sock: os.getuid() + 1)
    assert client_module.connect(server.directory) is None
    monkeypatch.undo()

    private = tempfile.mkdtemp(prefix="abs-", dir="/tmp")
    try:
        listening = BuildServer(private, lambda argv: 0, "")
        ours, theirs = socket.socketpair()
        with ours, theirs:
            theirs.sendall(request_for("status").encode())
            monkeypatch.setattr(server_module, "peer_uid", lambda sock: os.getuid() + 1)
            assert listening._handle(ours) is False
            with contextlib.suppress(ConnectionResetError):  # closed, unanswered
                assert theirs.recv(100) == b""
        listening.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_start_replaces_a_server_whose_code_changed(
        directory: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(site))
    first = control.start(0, directory)
    try:
        assert control.start(0, directory)["pid"] == first["pid"]  # up to date: kept
        (site / "upgraded.py").write_text("")
        assert control.status(directory)["stale"] is True  # type: ignore[index]
        second = control.start(0, directory)
        assert second["pid"] != first["pid"] and second["stale"] is False
    finally:
        control.stop(directory)
