"""``adjutant build`` against a bare ``podman run ... rpmbuild --rebuild``, and CLI start-up.

Both builds rebuild the same SRPM in the same image with the network off, alternately, so
that drift in the machine's load hits both alike. Target: ratio <= 1.5; start-up <= 0.3 s.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import ADJUTANT, ROOT, median, report, timed

RUNS = 9


def main() -> None:
    from adjutant.image.default import DEFAULT_IMAGE

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        timed([*ADJUTANT, "image", "build-default", "--runtime", "podman"])
        timed([*ADJUTANT, "build", str(ROOT / "examples/hello/adjutant-hello.spec"),
               "-o", str(work / "srpm")])
        srpm = work / "srpm" / "adjutant-hello-1.0-1.src.rpm"
        ours, bare = [], []
        for i in range(RUNS):
            ours.append(timed([*ADJUTANT, "build", str(srpm), "-o", str(work / f"o{i}"),
                               "--runtime", "podman"]))
            bare.append(timed(["podman", "run", "--rm", "--network", "none",
                               "-v", f"{srpm.parent}:/in:ro", DEFAULT_IMAGE,
                               "rpmbuild", "--rebuild", f"/in/{srpm.name}"]))
        startup = [timed([*ADJUTANT, "plugins"]) for _ in range(RUNS)]
    report("adjutant build vs bare podman run (example SRPM, podman, network none)", [
        ("runs", str(RUNS)),
        ("adjutant build, median", f"{median(ours):.3f} s"),
        ("bare podman run rpmbuild --rebuild, median", f"{median(bare):.3f} s"),
        ("ratio (target <= 1.5)", f"{median(ours) / median(bare):.2f}"),
        ("CLI start-up, 'adjutant plugins', median (target <= 0.3 s)", f"{median(startup):.3f} s"),
    ])


if __name__ == "__main__":
    main()
