"""What goes into one arch of a dist repo: the tag's rpms, each as its signed copy.

kojid's selection (``createDistRepoTask.get_rpms``), as pure functions over the hub's
answers: the tag's rpms of the arch and the arches it can run (``COMPAT``), one row per
signature key; per rpm the first of the requested ``keys`` it has a signed copy for,
else the unsigned copy when ``allow_missing_signatures`` (or none at all with
``skip_missing_signatures``). Files are read where the hub keeps them:
``packages/N/V/R/<arch>/<file>``, the signed copy at
``packages/N/V/R/data/signed/<key>/<arch>/<file>`` (``koji.pathinfo.signed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import koji

from adjutant.buildroot.packages import entry_nvra

#: The arches whose packages an arch's dist repo holds (kojid's table).
COMPAT: Mapping[str, tuple[str, ...]] = {
    "i386": ("athlon", "i686", "i586", "i486", "i386", "noarch"),
    "x86_64": ("amd64", "ia32e", "x86_64", "noarch"),
    "ia64": ("ia64", "noarch"),
    "ppc": ("ppc", "noarch"),
    "ppc64": ("ppc64p7", "ppc64pseries", "ppc64iseries", "ppc64", "noarch"),
    "ppc64le": ("ppc64le", "noarch"),
    "s390": ("s390", "noarch"),
    "s390x": ("s390x", "noarch"),
    "sparc": ("sparcv9v", "sparcv9", "sparcv8", "sparc", "noarch"),
    "sparc64": ("sparc64v", "sparc64", "noarch"),
    "alpha": ("alphaev6", "alphaev56", "alphaev5", "alpha", "noarch"),
    "arm": ("arm", "armv4l", "armv4tl", "armv5tel", "armv5tejl", "armv6l", "armv7l",
            "noarch"),
    "armhfp": ("armv7hl", "armv7hnl", "noarch"),
    "aarch64": ("aarch64", "noarch"),
    "riscv64": ("riscv64", "noarch"),
    "sw_64": ("sw_64", "noarch"),
    "loongarch64": ("loongarch64", "noarch"),
    "src": ("src",),
}


@dataclass
class Selection:
    """The chosen rpms by file name (hub rows plus ``_pkgpath``, the file on topdir),
    and what was wrong: files missing on disk, rpms without a requested signature."""

    kojipkgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)
    unsigned: list[str] = field(default_factory=list)


def pick_key(keys: Sequence[str], available: Iterable[str]) -> str | None:
    """The earliest of ``keys`` among ``available`` (all lower case), or None."""
    found = [key for key in available if key in keys]
    return min(found, key=keys.index) if found else None


def signing_targets(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) \
        -> list[tuple[int, str]]:
    """``(rpm id, key)`` for each rpm of the rows that has a signature by one of ``keys``
    (the earliest): what ``--write-signed-rpms`` asks the hub to write a copy for."""
    keys = [k.lower() for k in keys]
    by_rpm: dict[int, list[str]] = {}
    for row in rows:
        by_rpm.setdefault(row["id"], []).append((row.get("sigkey") or "").lower())
    targets = []
    for rpm_id, available in sorted(by_rpm.items()):
        key = pick_key(keys, available)
        if key:
            targets.append((rpm_id, key))
    return targets


def select(rows: Iterable[Mapping[str, Any]], builds: Iterable[Mapping[str, Any]],
           keys: Sequence[str], topdir: str, skip_missing_signatures: bool) -> Selection:
    """Choose each rpm's copy from listTaggedRPMS rows (``rpmsigs=True``) and builds; a
    draft build is a BuildError, as in kojid."""
    keys = [k.lower() for k in keys]
    paths = koji.PathInfo(topdir=topdir)
    builddirs = {}
    for build in builds:
        if build.get("draft"):
            raise koji.BuildError(f"Draft build: {build['nvr']} is not allowed")
        builddirs[build["id"]] = paths.build(build)
    by_rpm: dict[int, dict[str, Mapping[str, Any]]] = {}
    for row in rows:
        by_rpm.setdefault(row["id"], {})[(row.get("sigkey") or "").lower()] = row
    chosen = Selection()
    for sigs in by_rpm.values():
        key = pick_key(keys, sigs)
        info = dict(sigs[key] if key is not None else next(iter(sigs.values())))
        info["sigkey"] = key
        nvra = entry_nvra(info)
        if key is None:
            chosen.unsigned.append(nvra)
            if skip_missing_signatures:
                continue
            rel = paths.rpm(info)
        else:
            rel = paths.signed(info, key)
        pkgpath = f"{builddirs[info['build_id']]}/{rel}"
        if not Path(pkgpath).is_file():
            chosen.missing_files.append(pkgpath)
            continue
        info["_pkgpath"] = pkgpath
        chosen.kojipkgs[Path(pkgpath).name] = info
    return chosen


def pkglist_lines(kojipkgs: Mapping[str, Mapping[str, Any]], split_debuginfo: bool) \
        -> dict[str, list[str]]:
    """The pkglist of the repo (``""``) and its ``debug`` subrepo when debuginfo is split:
    ``Packages/<first letter>/<file>`` (``../Packages/...`` in the subrepo)."""
    lists: dict[str, list[str]] = {"": []}
    for name, info in sorted(kojipkgs.items()):
        where = f"Packages/{name[0].lower()}/{name}"
        if split_debuginfo and koji.is_debuginfo(info["name"]):
            lists.setdefault("debug", []).append(f"../{where}")
        else:
            lists[""].append(where)
    return lists


#: Multilib arches and the 32-bit arch whose packages they may carry (kojid's ``archmap``).
MULTILIB: Mapping[str, str] = {"x86_64": "i686", "ppc64": "ppc", "s390x": "s390"}
