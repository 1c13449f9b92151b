"""Running ``adjutant run`` against a fake hub, as a real process, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from adjutant.image.default import DEFAULT_IMAGE


def write_config(path: Path, *, server: str, topurl: str, topdir: Path, workdir: Path,
                 user: str, password: str, runtime: str = "podman",
                 kojid: Mapping[str, Any] | None = None,
                 adjutant: Mapping[str, Any] | None = None) -> Path:
    """A kojid.conf for a worker of host ``user`` on the hub at ``server``."""
    kojid_values = {
        "server": server, "topurl": topurl, "topdir": topdir, "workdir": workdir,
        "user": user, "password": password, "sleeptime": 1, "maxjobs": 4, "minspace": 1,
        "retry_interval": 1, "max_retries": 2, "offline_retry": "no",
        # A test keeps no failed buildroot unless it asks for one (it cleans it up).
        "failed_buildroot_lifetime": 0,
        **(kojid or {}),
    }
    adjutant_values = {
        "runtime": runtime, "task_image_default": DEFAULT_IMAGE,
        "image_pull_policy": "never", "hub_log_interval": 0.5,
        "cache_dir": Path(workdir).parent / "cache", **(adjutant or {}),
    }
    lines = ["[kojid]"] + [f"{k} = {v}" for k, v in kojid_values.items()]
    lines += ["", "[adjutant]"] + [f"{k} = {v}" for k, v in adjutant_values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class WorkerProcess:
    """One ``adjutant run`` process; its log goes to ``log_path``."""

    def __init__(self, config: Path, log_path: Path, force_lock: bool = True,
                 env: Mapping[str, str] | None = None,
                 program: Sequence[str] | None = None,
                 argv: Sequence[str] | None = None) -> None:
        """``program``: the command that takes kojid's arguments (default: ``adjutant
        run`` with this interpreter; an installed ``adjutantd`` works the same).
        ``argv``: the whole command line instead (e.g. a unit file's ExecStart)."""
        self.config = config
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        program = list(program or [sys.executable, "-m", "adjutant.cli.main", "run"])
        # kojid's unit file's arguments, in kojid's order.
        self.argv = list(argv) if argv is not None else [
            *program, "-c", str(config), "--fg", *(["--force-lock"] if force_lock else []),
            "--verbose"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env, cwd=self.log_path.parent)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean-up at all."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.1,
             message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
