"""Running the ``adjutant`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def adjutant(*args: str | Path, env: Mapping[str, str] | None = None,
             timeout: float = 600, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``adjutant ARGS`` with this interpreter; capture text output, never raise."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "adjutant.cli.main", *map(str, args)],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False, cwd=cwd,
    )
