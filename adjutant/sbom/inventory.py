"""What a buildroot holds, read from the buildroot itself: its rpm database, its dpkg
database (a Debian-based image), and the rpm and package manager versions.

``inventory.sh`` (in ``adjutant/buildroot/data``) writes the raw lists inside the
container; :func:`parse_inventory` reads them as hostile input: a line that does not have
the expected shape, a name that is not a plain package name or a digest that is not hex is
dropped, never trusted. Inventories are kept per image id (:class:`InventoryStore`): an
image never changes under its id, so a cached buildroot carries the record its install
wrote, and a cache hit yields the same document a fresh install would.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The files inventory.sh writes, all of which :func:`parse_inventory` reads.
INVENTORY_FILES = ("rpm.tsv", "deb.tsv", "deb-sums.txt", "tools.txt")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+:~^-]{0,254}$")
_VERSION = re.compile(r"^[A-Za-z0-9._+:~^-]{1,255}$")
_HEX = re.compile(r"^[0-9a-f]{32,128}$")
_TOOL = re.compile(r"^[\x20-\x7e]{0,200}$")


@dataclass(frozen=True)
class InventoryPackage:
    """One installed package. ``kind`` is ``rpm`` or ``deb``; ``digests`` maps an SPDX
    checksum algorithm (``MD5``, ``SHA256``) to a hex value: for an rpm its SIGMD5 (Koji's
    payloadhash) and header SHA-256, for a deb the SHA-256 of its installed-files manifest
    (dpkg keeps no digest of the package itself)."""

    kind: str
    name: str
    epoch: int | None
    version: str
    release: str
    arch: str
    digests: Mapping[str, str] = field(default_factory=dict)

    @property
    def nvra(self) -> str:
        return f"{self.name}-{self.version}-{self.release}.{self.arch}" if self.release \
            else f"{self.name}-{self.version}.{self.arch}"

    @property
    def evr(self) -> str:
        """``[E:]V[-R]``, as rpm and dpkg print versions."""
        epoch = f"{self.epoch}:" if self.epoch is not None else ""
        return f"{epoch}{self.version}-{self.release}" if self.release \
            else f"{epoch}{self.version}"


@dataclass(frozen=True)
class BuildrootInventory:
    """Every package of a buildroot, and its tools' versions (``{"rpm": "RPM version
    4.18.0", "dnf": "4.14.0"}``)."""

    packages: tuple[InventoryPackage, ...]
    tools: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"packages": [asdict(p) for p in self.packages], "tools": dict(self.tools)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildrootInventory:
        return cls(tuple(InventoryPackage(**{**p, "digests": dict(p["digests"])})
                         for p in data["packages"]), dict(data["tools"]))


def _rpm_packages(text: str) -> Iterable[InventoryPackage]:
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 7 or fields[0] == "gpg-pubkey":
            continue
        name, epoch, version, release, arch, sigmd5, sha256 = fields
        if not (_NAME.match(name) and _VERSION.match(version) and _VERSION.match(release)
                and _NAME.match(arch)) or not (epoch == "(none)" or epoch.isdigit()):
            continue
        digests = {algo: value for algo, value in (("MD5", sigmd5), ("SHA256", sha256))
                   if _HEX.match(value)}
        yield InventoryPackage("rpm", name, None if epoch == "(none)" else int(epoch),
                               version, release, arch, digests)


def _deb_version(text: str) -> tuple[int | None, str, str]:
    """(epoch, upstream version, Debian revision) of a dpkg version string."""
    epoch: int | None = None
    head, sep, rest = text.partition(":")
    if sep and head.isdigit():
        epoch, text = int(head), rest
    upstream, sep, revision = text.rpartition("-")
    return (epoch, upstream, revision) if sep else (epoch, text, "")


def _deb_packages(text: str, sums: str) -> Iterable[InventoryPackage]:
    manifest = {}
    for line in sums.splitlines():
        digest, _, filename = line.partition("  ")
        if _HEX.match(digest) and filename.endswith(".md5sums"):
            manifest[filename.removesuffix(".md5sums")] = digest
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or not fields[0].startswith("ii"):
            continue
        _, package, version, arch = fields
        name = package.split(":")[0]
        if not (_NAME.match(name) and _VERSION.match(version) and _NAME.match(arch)):
            continue
        epoch, upstream, revision = _deb_version(version)
        found = manifest.get(package) or manifest.get(f"{name}:{arch}") or manifest.get(name)
        yield InventoryPackage("deb", name, epoch, upstream, revision, arch,
                               {"SHA256": found} if found else {})


def parse_inventory(files: Mapping[str, str]) -> BuildrootInventory:
    """The inventory from the text of the files inventory.sh wrote (missing ones count as
    empty). Lines of the wrong shape are dropped."""
    tools = {}
    for line in files.get("tools.txt", "").splitlines():
        tool, _, version = line.partition("\t")
        if _NAME.match(tool) and _TOOL.match(version):
            tools[tool] = version.strip()
    packages = [*_rpm_packages(files.get("rpm.tsv", "")),
                *_deb_packages(files.get("deb.tsv", ""), files.get("deb-sums.txt", ""))]
    return BuildrootInventory(tuple(sorted(packages, key=lambda p: (p.kind, p.name, p.arch))),
                              tools)


class InventoryStore:
    """Inventories by image id, as JSON files in ``directory`` (the cache dir's
    ``inventories/``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, image_id: str) -> Path:
        digest = image_id.removeprefix("sha256:")
        if not _HEX.match(digest):
            raise ValueError(f"not an image id: {image_id!r}")
        return self.directory / f"{digest}.json"

    def get(self, image_id: str) -> BuildrootInventory | None:
        try:
            with open(self._path(image_id)) as fh:
                return BuildrootInventory.from_json(json.load(fh))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, image_id: str, inventory: BuildrootInventory) -> None:
        """Store atomically (a concurrent reader sees the old file or the new one)."""
        path = self._path(image_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(inventory.to_json(), fh)
        os.replace(tmp, path)

    def remove(self, image_id: str) -> None:
        """Forget the inventory of an image that is gone (the cache evicted it)."""
        self._path(image_id).unlink(missing_ok=True)
