"""``adjutant build`` against a bare ``podman run ... rpmbuild --rebuild``, and CLI start-up.

Both builds rebuild the same SRPM in the same image with the network off, alternately, so
that drift in the machine's load hits both alike. Target: ratio <= 1.5; start-up <= 0.3 s.

Two more figures split the difference between the two: the same build run in this
(already warm) process, which is the container lifecycle through the engine's API plus
adjutant's own work; and a bare interpreter importing only the libraries the build path
must load (podman-py with requests, pluggy, stevedore), a floor no code of ours can go
below.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ADJUTANT, ROOT, median, report, timed

RUNS = 25
FLOOR_IMPORTS = "import podman, pluggy, stevedore"
#: The floor process treats the collector as the adjutant command does (off while
#: loading, nothing left to scan at exit), so that only imports are compared.
FLOOR_PROGRAM = f"import gc; gc.disable(); {FLOOR_IMPORTS}; gc.freeze()"


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


def main() -> None:
    from adjutant.image.default import DEFAULT_IMAGE

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        timed([*ADJUTANT, "image", "build-default", "--runtime", "podman"])
        timed([*ADJUTANT, "build", str(ROOT / "examples/hello/adjutant-hello.spec"),
               "-o", str(work / "srpm")])
        srpm = work / "srpm" / "adjutant-hello-1.0-1.src.rpm"
        warm_builder = _WarmBuilder(srpm, work)
        ours, bare, warm, floor = [], [], [], []
        try:
            for i in range(RUNS):
                ours.append(timed([*ADJUTANT, "build", str(srpm), "-o", str(work / f"o{i}"),
                                   "--runtime", "podman"]))
                bare.append(timed(["podman", "run", "--rm", "--network", "none",
                                   "-v", f"{srpm.parent}:/in:ro", DEFAULT_IMAGE,
                                   "rpmbuild", "--rebuild", f"/in/{srpm.name}"]))
                warm.append(warm_builder.timed(i))
                floor.append(timed([sys.executable, "-c", FLOOR_PROGRAM]))
        finally:
            warm_builder.runtime.close()
        startup = [timed([*ADJUTANT, "plugins"]) for _ in range(RUNS)]
    ratio = median(ours) / median(bare)
    floor_ratio = (median(floor) + median(warm)) / median(bare)
    report("adjutant build vs bare podman run (example SRPM, podman, network none)", [
        ("rounds (each runs all four in turn)", str(RUNS)),
        ("adjutant build, median", _spread(ours)),
        ("bare podman run rpmbuild --rebuild, median", _spread(bare)),
        ("ratio (target <= 1.3)", f"{ratio:.3f}"),
        ("the same build in a warm process (API lifecycle + adjutant)", _spread(warm)),
        (f"interpreter + '{FLOOR_IMPORTS}'", _spread(floor)),
        ("ratio floor: warm build + those imports, over bare", f"{floor_ratio:.2f}"),
        ("CLI start-up, 'adjutant plugins', median (target <= 0.3 s)", _spread(startup)),
    ])


if __name__ == "__main__":
    main()
