"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).with_name("adjutant")
#: The installed console script (what users run), else the module.
ADJUTANT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "adjutant.cli.main"]


def timed(cmd: Sequence[str]) -> float:
    """Wall time of one command; raises if it fails (a failed run is no measurement)."""
    started = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def report(title: str, rows: Sequence[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
