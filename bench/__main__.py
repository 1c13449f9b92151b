"""Run the benchmarks: ``python -m bench [NAME ...]`` (default: all)."""

from __future__ import annotations

import compileall
import importlib
import sys

from bench.common import ROOT

ALL = ["local_build", "worker", "buildroot"]
PACKAGES = ["adjutant", "adjutant_podman", "adjutant_docker", "adjutant_git"]


def main(names: list[str]) -> None:
    # Measure the commands as installed: with current bytecode, not compiled from source
    # on every start (an editable install under PYTHONDONTWRITEBYTECODE would be).
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1, force=False)
    for name in names or ALL:
        if name not in ALL:
            raise SystemExit(f"unknown benchmark {name!r}; available: {', '.join(ALL)}")
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
