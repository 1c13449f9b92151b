"""Package lists of a buildroot, and the entries the hub's buildroot listing takes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class InstalledPackage:
    """One package as ``rpm -qa`` reports it in the buildroot."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    payloadhash: str
    size: int
    buildtime: int

    @property
    def nvra(self) -> str:
        return f"{self.name}-{self.version}-{self.release}.{self.arch}"

    def hub_entry(self, rpm_ids: Mapping[str, int] | None = None) -> dict[str, Any]:
        """The listing entry: the eight fields, plus the hub's ``id`` when it is known."""
        entry = asdict(self)
        if rpm_ids and self.nvra in rpm_ids:
            entry["id"] = rpm_ids[self.nvra]
        return entry

    def external_entry(self, repo_id: int, repo_name: str) -> dict[str, Any]:
        """The listing entry of an rpm from an external repo: the eight fields, plus that
        repo as ``location`` (its id; the hub creates the external rpm if it is new)."""
        return {**asdict(self), "external_repo": repo_name, "location": repo_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InstalledPackage:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def parse_rpm_list(text: str) -> list[InstalledPackage]:
    """Parse the install script's ``rpm -qa`` lines (tab-separated, install.sh's format).

    ``gpg-pubkey`` pseudo-packages are skipped, as kojid does.
    """
    packages = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 8 or fields[0] == "gpg-pubkey":
            continue
        name, version, release, epoch, arch, sigmd5, size, buildtime = fields
        packages.append(InstalledPackage(
            name, version, release, None if epoch == "(none)" else int(epoch), arch,
            "" if sigmd5 == "(none)" else sigmd5, int(size or 0), int(buildtime or 0)))
    return sorted(packages, key=lambda p: p.nvra)


def added(after: Iterable[InstalledPackage], before: Iterable[InstalledPackage]) \
        -> list[InstalledPackage]:
    """Packages in ``after`` that ``before`` did not have (same N-V-R.A and digest)."""
    seen = set(before)
    return [p for p in after if p not in seen]


def entry_nvra(entry: Mapping[str, Any]) -> str:
    """N-V-R.A of a hub rpm entry (a buildroot listing entry, an rpmlist row, rpm info)."""
    return f"{entry['name']}-{entry['version']}-{entry['release']}.{entry['arch']}"


def parse_rpmlist(text: str) -> dict[str, int]:
    """N-V-R.A → hub rpm id from a repo's ``rpmlist.jsonl`` (one JSON object a line)."""
    ids: dict[str, int] = {}
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            ids[entry_nvra(row)] = row["id"]
    return ids
