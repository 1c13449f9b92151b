"""``adjutant build`` against a bare ``podman run ... rpmbuild --rebuild``, and CLI start-up.

Two SRPMs: the README's example, and one with a tarball (``%setup``), a ``%check`` and a
subpackage (made at bench time). For each, both builds rebuild the same SRPM in the same
image with the network off, alternately, so that drift in the machine's load hits both
alike. Target: ratio <= 1.3 on both; start-up <= 0.3 s.

``adjutant build`` is timed as users run it: the project's wheel installed in a new
virtualenv (made at bench time from the package index), not the checkout's editable
install, whose import hook costs every start some 20 ms that no user pays. When that
virtualenv cannot be made, the checkout's command is timed instead and the report says so.

The command is timed two ways. As a packager runs it: the first build finds no build
server, runs in its own process and then starts one in the background (timed apart,
once); every later build hands the build to that server instead of loading Python's side
of it. That is the target's ratio. And always in its own process
(``ADJUTANT_NO_BUILD_SERVER=1``), what a build costs without a server.

Two more figures split the own-process way's difference from the bare run: the same
build run in this (already warm) process, which is the container lifecycle through the
engine's API plus adjutant's own work; and a bare interpreter (the same virtualenv's)
importing only the libraries the build path must load (podman-py with requests, pluggy,
stevedore), a floor no code of ours can go below.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench.common import ADJUTANT, ROOT, median, report, timed

RUNS = 25
FLOOR_IMPORTS = "import podman, pluggy, stevedore"
#: The floor process treats the collector as the adjutant command does (off while
#: loading, nothing left to scan at exit), so that only imports are compared.
FLOOR_PROGRAM = f"import gc; gc.disable(); {FLOOR_IMPORTS}; gc.freeze()"


TARBALL_NAME = "adjutant-bench-tar"
TARBALL_SPEC = f"""\
Name:           {TARBALL_NAME}
Version:        1.0
Release:        1
Summary:        A tool from a tarball, checked, with its data in a subpackage
License:        MIT
BuildArch:      noarch
Source0:        %{{name}}-%{{version}}.tar.gz

%description
The local-build bench's second package: unpacked, built, checked and split.

%package data
Summary:        Data files of {TARBALL_NAME}
Requires:       %{{name}} = %{{version}}-%{{release}}

%description data
The data the tool lists.

%prep
%setup -q

%build
sh ./build.sh

%check
sh ./check.sh

%install
install -D -m 0755 tool %{{buildroot}}%{{_bindir}}/{TARBALL_NAME}
mkdir -p %{{buildroot}}%{{_datadir}}/%{{name}}
cp -a data/. %{{buildroot}}%{{_datadir}}/%{{name}}/

%files
%{{_bindir}}/{TARBALL_NAME}

%files data
%{{_datadir}}/%{{name}}
"""
#: The tarball's data files: enough that unpacking and packaging them is real work.
DATA_FILES = 200


def _tarball_sources(directory: Path) -> Path:
    """The second SRPM's spec and tarball in ``directory``; returns the spec."""
    files = {
        "build.sh": f"printf '#!/bin/sh\\nls /usr/share/{TARBALL_NAME}\\n' > tool\n",
        "check.sh": f"test -s tool && test \"$(ls data | wc -l)\" -eq {DATA_FILES}\n",
        **{f"data/item{i:03d}.txt": f"item {i}\n" * 40 for i in range(DATA_FILES)},
    }
    top = f"{TARBALL_NAME}-1.0"
    with tarfile.open(directory / f"{top}.tar.gz", "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    spec = directory / f"{TARBALL_NAME}.spec"
    spec.write_text(TARBALL_SPEC)
    return spec


class _WarmBuilder:
    """Runs the build in this process, whose imports and engine client are already warm."""

    def __init__(self, srpm: Path, work: Path) -> None:
        from adjutant.build.local import LocalBuildRequest, build_locally
        from adjutant.engine import open_runtime
        from adjutant.image.default import DEFAULT_IMAGE
        from adjutant.plugin.manager import load_plugins

        self._build, self._request = build_locally, LocalBuildRequest
        self._image, self._srpm, self._work = DEFAULT_IMAGE, srpm, work
        self._plugins = load_plugins()
        self.runtime = open_runtime(self._plugins, "podman")

    def timed(self, i: int) -> float:
        started = time.perf_counter()
        self._build(self.runtime, self._plugins, self._request(
            source=self._srpm, output=self._work / f"warm{i}", image=self._image))
        return time.perf_counter() - started


def _spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4)
    return f"{median(values):.3f} s (quartiles {q[0]:.3f} to {q[2]:.3f})"


def _srpm(spec: Path, out: Path) -> Path:
    timed([*ADJUTANT, "build", str(spec), "-o", str(out), "--srpm-only",
           "--runtime", "podman"])
    (srpm,) = out.glob("*.src.rpm")
    return srpm


def _installed(tmp: Path) -> tuple[list[str], str, str]:
    """The command to time and its interpreter, as users install them (the wheel in a
    new virtualenv), else the checkout's; and which of the two it is."""
    from tests.support.wheel import build_wheel, install_wheel

    try:
        (tmp / "wheel").mkdir(parents=True)
        (tmp / "venv").mkdir()
        venv = install_wheel(build_wheel(tmp / "wheel"), tmp / "venv")
    except (AssertionError, OSError) as exc:
        print(f"bench: could not install the wheel in a new virtualenv ({exc}); timing "
              "the checkout's command instead", file=sys.stderr)
        return ADJUTANT, sys.executable, "the checkout's editable install (no wheel)"
    return [str(venv / "bin/adjutant")], str(venv / "bin/python"), \
        "the wheel, installed in a new virtualenv"


def _measure(srpm: Path, work: Path, label: str, command: list[str],
             python: str) -> list[tuple[str, str]]:
    """RUNS rounds of the five timings on one SRPM; the report's rows for it."""
    from adjutant.image.default import DEFAULT_IMAGE
    from tests.support.cli import wait_for_build_server

    work.mkdir()
    warm_builder = _WarmBuilder(srpm, work)
    ours, served, bare, warm, floor = [], [], [], [], []
    # Its own runtime directory (short: a socket's path has a 108-byte limit), where no
    # server runs yet.
    packager = {"XDG_RUNTIME_DIR": tempfile.mkdtemp(prefix="abs-", dir="/tmp"),
                "ADJUTANT_NO_BUILD_SERVER": ""}

    def build(out: str, env: dict[str, str]) -> float:
        return timed([*command, "build", str(srpm), "-o", str(work / out), "--runtime",
                      "podman"], env=env)

    try:
        first = build("first", packager)
        wait_for_build_server(packager, command)
        for i in range(RUNS):
            ours.append(build(f"o{i}", {"ADJUTANT_NO_BUILD_SERVER": "1"}))
            served.append(build(f"s{i}", packager))
            bare.append(timed(["podman", "run", "--rm", "--network", "none",
                               "-v", f"{srpm.parent}:/in:ro", DEFAULT_IMAGE,
                               "rpmbuild", "--rebuild", f"/in/{srpm.name}"]))
            warm.append(warm_builder.timed(i))
            floor.append(timed([python, "-c", FLOOR_PROGRAM]))
    finally:
        warm_builder.runtime.close()
        subprocess.run([*command, "build-server", "stop"], env={**os.environ, **packager},
                       capture_output=True, check=False)
        shutil.rmtree(packager["XDG_RUNTIME_DIR"], ignore_errors=True)
    floor_ratio = (median(floor) + median(warm)) / median(bare)
    return [
        (f"{label}: bare podman run rpmbuild --rebuild, median", _spread(bare)),
        (f"{label}: adjutant build as a packager runs it (served), median", _spread(served)),
        (f"{label}: ratio (target <= 1.3)", f"{median(served) / median(bare):.3f}"),
        (f"{label}: the first build, which found no server and started one",
         f"{first:.3f} s"),
        (f"{label}: adjutant build in its own process, median", _spread(ours)),
        (f"{label}: ratio in its own process", f"{median(ours) / median(bare):.3f}"),
        (f"{label}: the same build in a warm process", _spread(warm)),
        (f"{label}: interpreter + '{FLOOR_IMPORTS}'", _spread(floor)),
        (f"{label}: own-process floor (warm build + those imports) / bare",
         f"{floor_ratio:.2f}"),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        timed([*ADJUTANT, "image", "build-default", "--runtime", "podman"])
        example = _srpm(ROOT / "examples/hello/adjutant-hello.spec", work / "srpm")
        sources = work / "tarball-src"
        sources.mkdir()
        tarball = _srpm(_tarball_sources(sources), work / "srpm-tarball")
        command, python, installed = _installed(work / "install")
        rows = [("adjutant timed as", installed),
                ("rounds (each runs all five in turn)", str(RUNS))]
        rows += _measure(example, work / "example", "example SRPM", command, python)
        rows += _measure(tarball, work / "tarball", "tarball+%check+subpackage SRPM",
                         command, python)
        startup = [timed([*command, "plugins"]) for _ in range(RUNS)]
    rows.append(("CLI start-up, 'adjutant plugins', median (target <= 0.3 s)",
                 _spread(startup)))
    report("adjutant build vs bare podman run (podman, network none)", rows)


if __name__ == "__main__":
    main()
