"""The wheel users install, built from a clean copy of the checkout, and a new virtualenv
with it installed: shared by the wheel tests and the benchmarks that time what users run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path, timeout: float = 900,
        env: Mapping[str, str] | None = None) -> str:
    """Run a command (in ``env``, else this process's); its stdout. AssertionError with
    its output when it fails."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def _not_sources(directory: str, names: list[str]) -> set[str]:
    """What a clean checkout lacks: caches everywhere, build products at the top."""
    top = {".git", ".venv", ".nox", "build", "dist", "out"} if Path(directory) == ROOT else set()
    return {n for n in names if n in top or n == "__pycache__" or n.endswith(
        (".egg-info", "_cache"))}


def build_wheel(out: Path) -> Path:
    """The project's wheel, built in ``out``."""
    # From a clean copy: setuptools reuses a checkout's build/ dir, stale files included.
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=_not_sources)
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "-w", out, source, cwd=out)
    [built] = out.glob("koji_adjutant-*.whl")
    return built


def install_wheel(wheel: Path, home: Path, extras: str = "podman") -> Path:
    """A new virtualenv in ``home`` with ``wheel`` (and ``extras``) installed from the
    package index, as a user installs it; returns the virtualenv's directory."""
    run(sys.executable, "-m", "venv", home / "venv", cwd=home)
    run(home / "venv/bin/pip", "install", "-q", "--disable-pip-version-check",
        f"{wheel}[{extras}]", cwd=home)
    return home / "venv"
