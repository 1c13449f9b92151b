"""Run the benchmarks: ``python -m bench [NAME ...]`` (default: all)."""

from __future__ import annotations

import importlib
import sys

ALL = ["local_build", "worker", "buildroot"]


def main(names: list[str]) -> None:
    for name in names or ALL:
        if name not in ALL:
            raise SystemExit(f"unknown benchmark {name!r}; available: {', '.join(ALL)}")
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
