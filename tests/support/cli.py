"""Running the ``adjutant`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.worker import wait_for

#: ``adjutant`` run by this interpreter, as :func:`adjutant` runs it.
ADJUTANT = (sys.executable, "-m", "adjutant.cli.main")


def adjutant(*args: str | Path, env: Mapping[str, str] | None = None,
             timeout: float = 600, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``adjutant ARGS`` with this interpreter; capture text output, never raise."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*ADJUTANT, *map(str, args)],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False, cwd=cwd,
    )


def wait_for_build_server(env: Mapping[str, str], command: Sequence[str | Path] = ADJUTANT,
                          timeout: float = 60) -> None:
    """Until ``command build-server status`` (in this environment plus ``env``) finds a
    server, such as the one a first build sets off; AssertionError after ``timeout``."""
    full_env = {**os.environ, **env}
    wait_for(lambda: subprocess.run([*map(str, command), "build-server", "status"],
                                    env=full_env, capture_output=True,
                                    check=False).returncode == 0,
             timeout, interval=0.2, message="a build server to answer")
