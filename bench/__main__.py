"""Run the benchmarks: ``python -m bench [NAME ...]`` (default: all but the long ones),
or ``python -m bench NAME --option ...`` to give one benchmark its own options."""

from __future__ import annotations

import compileall
import importlib
import os
import sys

from bench.common import ROOT

ALL = ["local_build", "worker", "buildroot", "concurrency", "logflood", "bigroot", "cachedisk"]
#: Run only when named: they take many minutes (``soak``: about 10 for 200 tasks;
#: ``emulation``: builds under qemu-user, and the aarch64 image if it is not there yet).
ON_REQUEST = ["soak", "emulation"]
PACKAGES = ["adjutant", "adjutant_podman", "adjutant_docker", "adjutant_git"]


def main(names: list[str]) -> None:
    # Measure the commands as installed: with current bytecode, not compiled from source
    # on every start (an editable install under PYTHONDONTWRITEBYTECODE would be).
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1, force=False)
    # The builds a bench makes its inputs with run in their own process and leave no build
    # server behind; local_build times the server on purpose, in a directory of its own.
    os.environ["ADJUTANT_NO_BUILD_SERVER"] = "1"
    first_option = next((i for i, a in enumerate(names) if a.startswith("-")), len(names))
    names, options = names[:first_option], names[first_option:]
    if options and len(names) != 1:
        raise SystemExit("options go to one benchmark: python -m bench NAME --option ...")
    for name in names or ALL:
        if name not in ALL + ON_REQUEST:
            raise SystemExit(f"unknown benchmark {name!r}; available: "
                             f"{', '.join(ALL + ON_REQUEST)}")
        module = importlib.import_module(f"bench.{name}")
        if options:
            module.main(options)
        else:
            module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
