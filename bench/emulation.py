"""An emulated build against a native one: ``adjutant build --arch aarch64`` on this
x86_64 host (qemu-user) ÷ ``adjutant build`` of the same SRPM for x86_64.

The package is arch-specific and does real work in ``%build`` (compressing and hashing a
few MB with xz and sha256sum, and a shell loop), so the figure covers rpmbuild, the
shell and compiled tools under emulation, not only container start-up. Runs alternate
native and emulated so that drift in the machine's load hits both alike; each build
runs in its arch's default image with no repo (the image as it is), after one warm-up
build each that takes the images' inventories.

``python -m bench emulation [--runs N] [--arch ARCH]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import ADJUTANT, report, timed

SPEC = """\
Name:           adjutant-emubench
Version:        1.0
Release:        1
Summary:        Work for the emulation benchmark
License:        MIT

%description
Compresses, hashes and loops, to be timed native and emulated.

%build
head -c 8000000 /dev/zero | tr '\\0' 'a' > data
for i in 1 2 3 4 5 6 7 8; do printf 'line %s of the input\\n' "$i" >> data; done
xz -6 -k data
sha256sum data data.xz > sums
i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done

%install
install -D -m 0644 sums %{buildroot}%{_datadir}/adjutant-emubench/sums

%files
%{_datadir}/adjutant-emubench/sums
"""


def _srpm(work: Path) -> Path:
    src = work / "src"
    src.mkdir()
    (src / "emubench.spec").write_text(SPEC)
    out = work / "srpm"
    timed([*ADJUTANT, "build", str(src / "emubench.spec"), "-o", str(out), "--srpm-only",
           "--runtime", "podman"])
    (srpm,) = out.glob("*.src.rpm")
    return srpm


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench emulation")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--arch", default="aarch64")
    args = parser.parse_args(argv or [])
    native: list[float] = []
    emulated: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-emulation-") as tmp:
        work = Path(tmp)
        srpm = _srpm(work)

        def build(arch: str | None, name: str) -> float:
            cmd = [*ADJUTANT, "build", str(srpm), "-o", str(work / name), "--runtime",
                   "podman", *(["--arch", arch] if arch else [])]
            return timed(cmd)

        build(None, "warm-native")
        build(args.arch, "warm-emulated")
        for i in range(args.runs):
            native.append(build(None, f"native{i}"))
            emulated.append(build(args.arch, f"emulated{i}"))
            print(f"  run {i + 1}: native {native[-1]:.1f} s, emulated {emulated[-1]:.1f} s",
                  file=sys.stderr)
    ratios = [e / n for e, n in zip(emulated, native, strict=True)]
    report(f"emulated {args.arch} build ÷ native build ({args.runs} runs, alternating)", [
        ("native build (median)", f"{statistics.median(native):.1f} s "
                                  f"(min {min(native):.1f}, max {max(native):.1f})"),
        ("emulated build (median)", f"{statistics.median(emulated):.1f} s "
                                    f"(min {min(emulated):.1f}, max {max(emulated):.1f})"),
        ("ratio (median of runs)", f"{statistics.median(ratios):.2f} "
                                   f"(min {min(ratios):.2f}, max {max(ratios):.2f})"),
    ])


if __name__ == "__main__":
    main(sys.argv[1:])
