"""The facts of a build's SBOM gathered on the host: where each buildroot package came
from, the digests of the build's files, the worker's and plugins' versions. Shared by hub
tasks (:mod:`adjutant.worker.steps.sbom`) and local builds."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adjutant.buildroot.packages import entry_nvra
from adjutant.plugin.manager import Plugins
from adjutant.plugin.types import BuildrootPackages
from adjutant.rpm.header import RpmHeaderError, read_rpm
from adjutant.sbom.inventory import BuildrootInventory, InventoryPackage
from adjutant.sbom.spdx import Artifact, BuildFacts, Origin, spdx_document


def package_origins(packages: BuildrootPackages, repo: Origin | None, image: str,
                    image_id: str) -> Callable[[InventoryPackage], Origin]:
    """Where each package of a buildroot came from: an rpm its install added came from
    ``repo`` (or the external repo its hub entry names); everything else, debs included,
    from the image."""
    external = {entry_nvra(e): str(e["external_repo"]) for e in (*packages.initial, *packages.added)
                if e.get("external_repo")}
    from_image = Origin("image", f"{image} ({image_id})")
    image_only = set(packages.image_only)

    def origin(p: InventoryPackage) -> Origin:
        if p.kind != "rpm" or p.nvra in image_only or repo is None:
            return from_image
        if p.nvra in external:
            return Origin("external-repo", f"external repo {external[p.nvra]}")
        return repo

    return origin


def artifact(path: Path) -> Artifact:
    """An output or SRPM file: its SHA-256, and its header's identity when it reads."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    try:
        info = read_rpm(path)
    except (OSError, RpmHeaderError):
        return Artifact(path.name, digest.hexdigest())
    evr = f"{info.epoch}:" if info.epoch is not None else ""
    return Artifact(path.name, digest.hexdigest(), info.name,
                    f"{evr}{info.version}-{info.release}", info.arch, info.payloadhash or "")


@functools.cache
def own_version() -> str:
    """koji-adjutant's installed version ("unknown" from a bare checkout). Read once per
    process: the code running is the version it was when loaded, whatever an upgrade
    has put on disk since."""
    try:
        return importlib.metadata.version("koji-adjutant")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def worker_tools(plugins: Plugins) -> list[tuple[str, str]]:
    """The worker's distribution and version, then each plugin's (SPDX's creators).

    The versions are read from the installed metadata on first use, then kept for the
    process (by :func:`own_version` and the plugin manager's ``plugin_distributions``):
    a daemon or build server that calls this before it forks spares every child the
    scan."""
    tools = [("koji-adjutant", own_version())]
    for info in plugins.infos():
        if not info.builtin:
            tools.append((info.name, info.version or "unknown"))
    return tools


def document_facts(*, subject: str, namespace: str, inventory: BuildrootInventory,
                   origin: Callable[[InventoryPackage], Origin], image: str, image_id: str,
                   buildroot_image_id: str, plugins: Plugins, host: str,
                   srpm: Path | None, outputs: Sequence[Path], scm_url: str | None = None,
                   scm_commit: str | None = None) -> BuildFacts:
    return BuildFacts(
        subject=subject, namespace=namespace, inventory=inventory, origin=origin,
        image=image, image_id=image_id, buildroot_image_id=buildroot_image_id,
        tools=worker_tools(plugins), host=host,
        srpm=artifact(srpm) if srpm is not None else None,
        outputs=[artifact(p) for p in outputs], scm_url=scm_url, scm_commit=scm_commit)


def write_document(path: Path, facts: BuildFacts) -> Path:
    path.write_text(document_text(spdx_document(facts)))
    return path


_compact = json.JSONEncoder(separators=(", ", ": ")).encode


def document_text(doc: dict[str, Any]) -> str:
    """An SBOM as JSON text: each top-level member on a line of its own, and each element
    of a top-level list too (one package, one relationship per line, for grep and diff).
    Every line is encoded by json's C encoder; ``indent=`` would fall back to the
    pure-Python one, several times slower on a buildroot of hundreds of packages, in every
    task's critical path."""
    members = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            elements = ",\n  ".join(_compact(element) for element in value)
            members.append(f"{_compact(key)}: [\n  {elements}\n]")
        else:
            members.append(f"{_compact(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(members) + "\n}\n"
