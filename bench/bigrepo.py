"""A realistic tag repo for the buildroot benchmarks, made at bench time: 300 packages
built for real (one spec, 300 subpackages ``bp-000``..``bp-299``, one rpmbuild).

- ``bp-150``..``bp-299`` are the comps ``build`` group (150 packages);
- each group member requires two to four packages below it: by name, by a virtual
  ``bpvirt(N)``, by a file (``/usr/bin/bp-N``) and by rich dependencies (``(a or b)``,
  ``(a if b)``), so the group pulls in much of ``bp-000``..``bp-119`` as a web;
- ``bp-120``..``bp-149`` are leaves nothing requires: the benchmarks' BuildRequires.

The built rpms are kept in the user's cache, keyed by the spec's hash, so only the first
run pays for the build.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path
from typing import Any

COUNT = 300
GROUP = range(150, 300)
LEAVES = range(120, 150)
POOL = 120


def name(i: int) -> str:
    return f"bp-{i:03d}"


def _requires(rng: random.Random, i: int) -> list[str]:
    if i not in GROUP:
        below = list(range(min(i, POOL)))
        return [name(j) for j in rng.sample(below, min(len(below), rng.randint(0, 2)))]
    picks = rng.sample(range(POOL), 4)
    kinds = [f"{name(picks[0])}", f"bpvirt({picks[1]})", f"/usr/bin/{name(picks[2])}",
             rng.choice([f"({name(picks[3])} or {name((picks[3] + 1) % POOL)})",
                         f"({name(picks[3])} if {name(picks[0])})"])]
    return kinds[:rng.randint(2, 4)]


def spec_text(seed: int = 12) -> str:
    rng = random.Random(seed)
    lines = ["Name: bigrepo", "Version: 1.0", "Release: 1", "Summary: benchmark repo",
             "License: MIT", "BuildArch: noarch", "%description", "Benchmark repo.", ""]
    install = ["%install"]
    files = []
    for i in range(COUNT):
        lines += [f"%package -n {name(i)}", f"Summary: package {i}",
                  f"Provides: bpvirt({i})"]
        lines += [f"Requires: {req}" for req in _requires(rng, i)]
        lines += [f"%description -n {name(i)}", f"Package {i}.", ""]
        install.append(f"mkdir -p %{{buildroot}}/usr/share/bp/{i}")
        install.append(f"head -c {rng.randint(2000, 40000)} /dev/zero "
                       f"> %{{buildroot}}/usr/share/bp/{i}/data")
        install.append(f"echo '#!/bin/sh' > %{{buildroot}}/usr/bin/{name(i)}")
        files += [f"%files -n {name(i)}", f"/usr/share/bp/{i}",
                  f"%attr(0755,root,root) /usr/bin/{name(i)}", ""]
    install.insert(1, "mkdir -p %{buildroot}/usr/bin")
    return "\n".join([*lines, *install, "", *files])


def groups() -> dict[str, list[str]]:
    return {"build": [name(i) for i in GROUP]}


def build_rpms(runtime: Any, plugins: Any, work: Path) -> list[Path]:
    """The 300 rpms, from the cache when this spec was built before."""
    from adjutant.build.local import LocalBuildRequest, build_locally
    from adjutant.image.default import DEFAULT_IMAGE

    text = spec_text()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    cached = Path.home() / ".cache" / "koji-adjutant" / f"bench-bigrepo-{digest}"
    if len(list(cached.glob("*.rpm"))) == COUNT:
        return sorted(cached.glob("*.rpm"))
    src = work / "bigrepo" / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "bigrepo.spec").write_text(text)
    result = build_locally(runtime, plugins, LocalBuildRequest(
        source=src / "bigrepo.spec", output=work / "bigrepo", image=DEFAULT_IMAGE))
    if len(result.rpms) != COUNT:
        raise RuntimeError(f"expected {COUNT} rpms, got {len(result.rpms)}")
    partial = cached.with_name(cached.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for rpm in result.rpms:
        shutil.copy(rpm, partial / rpm.name)
    shutil.rmtree(cached, ignore_errors=True)
    partial.rename(cached)
    return sorted(cached.glob("*.rpm"))
