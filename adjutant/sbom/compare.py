"""Reading a build's SPDX document back: a summary, and what changed between two builds'
environments (the question a packager asks when a build broke overnight)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SbomError(ValueError):
    """The document is not a buildroot SBOM adjutant wrote; the message says what is off."""


@dataclass(frozen=True)
class BuildrootEntry:
    """One package of a buildroot as the document lists it."""

    kind: str  # rpm or deb (the purl type)
    name: str
    arch: str
    version: str
    origin: str  # tag-repo, external-repo, local-repo, image

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.name, self.arch


@dataclass(frozen=True)
class SbomView:
    """What a document says about its build."""

    subject: str
    image: str
    image_id: str
    comment: str
    packages: tuple[BuildrootEntry, ...]
    outputs: tuple[tuple[str, str], ...]  # (file name, sha256)


@dataclass(frozen=True)
class EnvironmentDiff:
    added: tuple[BuildrootEntry, ...]
    removed: tuple[BuildrootEntry, ...]
    changed: tuple[tuple[BuildrootEntry, BuildrootEntry], ...]  # (before, after)
    image_changed: bool

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.image_changed)


def _purl(package: Mapping[str, Any]) -> str:
    for ref in package.get("externalRefs") or ():
        if ref.get("referenceType") == "purl":
            return str(ref.get("referenceLocator", ""))
    return ""


def _arch(purl: str) -> str:
    for qualifier in purl.partition("?")[2].split("&"):
        key, _, value = qualifier.partition("=")
        if key == "arch":
            return value
    return ""


def read_sbom(doc: Mapping[str, Any]) -> SbomView:
    """The view of a document :func:`adjutant.sbom.spdx.spdx_document` wrote."""
    if doc.get("spdxVersion") != "SPDX-2.3" or not isinstance(doc.get("packages"), list):
        raise SbomError("not an SPDX 2.3 JSON document")
    by_id = {p.get("SPDXID"): p for p in doc["packages"] if isinstance(p, Mapping)}
    if "SPDXRef-Buildroot" not in by_id or "SPDXRef-Image" not in by_id:
        raise SbomError("not a buildroot SBOM of adjutant (no SPDXRef-Buildroot/-Image)")
    rels = [r for r in doc.get("relationships") or () if isinstance(r, Mapping)]
    contained = [r["relatedSpdxElement"] for r in rels
                 if r.get("spdxElementId") == "SPDXRef-Buildroot"
                 and r.get("relationshipType") == "CONTAINS"]
    described = [r["relatedSpdxElement"] for r in rels
                 if r.get("spdxElementId") == "SPDXRef-DOCUMENT"
                 and r.get("relationshipType") == "DESCRIBES"]
    packages = []
    for ident in contained:
        p = by_id.get(ident)
        if p is None:
            continue
        purl = _purl(p)
        packages.append(BuildrootEntry(
            purl.removeprefix("pkg:").split("/", 1)[0], str(p.get("name")), _arch(purl),
            str(p.get("versionInfo", "")), str(p.get("sourceInfo", "")).partition(":")[0]))
    outputs = []
    for ident in described:
        p = by_id.get(ident, {})
        if ident in ("SPDXRef-Buildroot", "SPDXRef-SRPM", "SPDXRef-Source") or not p:
            continue
        sha = next((c["checksumValue"] for c in p.get("checksums") or ()
                    if c.get("algorithm") == "SHA256"), "")
        outputs.append((str(p.get("packageFileName") or p.get("name")), sha))
    image = by_id["SPDXRef-Image"]
    info = doc.get("creationInfo") or {}
    return SbomView(str(doc.get("name", "")).removeprefix("buildroot of "),
                    str(image.get("name")), str(image.get("versionInfo")),
                    str(info.get("comment", "")),
                    tuple(sorted(packages, key=lambda e: e.key)), tuple(outputs))


def diff(before: SbomView, after: SbomView) -> EnvironmentDiff:
    """What changed from ``before``'s buildroot to ``after``'s, by package kind, name and
    arch: added, removed, and version changed."""
    old = {e.key: e for e in before.packages}
    new = {e.key: e for e in after.packages}
    return EnvironmentDiff(
        tuple(new[k] for k in sorted(new.keys() - old.keys())),
        tuple(old[k] for k in sorted(old.keys() - new.keys())),
        tuple((old[k], new[k]) for k in sorted(old.keys() & new.keys())
              if old[k].version != new[k].version),
        before.image_id != after.image_id)


def summary_lines(view: SbomView) -> list[str]:
    counts: dict[str, int] = {}
    for e in view.packages:
        counts[e.origin] = counts.get(e.origin, 0) + 1
    by_origin = ", ".join(f"{n} from {origin}" for origin, n in sorted(counts.items()))
    lines = [f"build:     {view.subject}",
             f"image:     {view.image} ({view.image_id})",
             f"buildroot: {len(view.packages)} packages ({by_origin or 'none'})",
             f"about:     {view.comment}"]
    lines += [f"output:    {name}  sha256:{sha}" for name, sha in view.outputs]
    return lines


def diff_lines(d: EnvironmentDiff, before: SbomView, after: SbomView) -> list[str]:
    lines = []
    if d.image_changed:
        lines.append(f"~ image {before.image} {before.image_id} -> {after.image} "
                     f"{after.image_id}")
    lines += [f"+ {e.name}.{e.arch} {e.version} ({e.origin})" for e in d.added]
    lines += [f"- {e.name}.{e.arch} {e.version} ({e.origin})" for e in d.removed]
    lines += [f"~ {a.name}.{a.arch} {a.version} -> {b.version}" for a, b in d.changed]
    return lines or ["the two buildroots hold the same packages"]
