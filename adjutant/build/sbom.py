"""``buildroot.spdx.json`` of a local build, beside its results: what it was built in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from adjutant.plugin.types import BuildrootPackages, ImageChoice
from adjutant.sbom.facts import document_facts, package_origins, write_document
from adjutant.sbom.spdx import SBOM_NAME, Origin
from adjutant.worker.context import TaskContext
from adjutant.worker.inventory import buildroot_inventory
from adjutant.worker.steps.buildroot import tag_repo_origin

if TYPE_CHECKING:  # hubsource imports koji; a build with no hub does not load it
    from adjutant.build.hubsource import HubBuild


def repo_origin(ctx: TaskContext, hub: HubBuild | None, repos: Sequence[str]) \
        -> Origin | None:
    """Where the packages a local build installed came from: the hub tag's repo, the
    ``--repo`` repos, or nowhere (None: it installed nothing)."""
    if hub is not None:
        return tag_repo_origin(ctx.settings.topurl, hub.tag, hub.repo_id, ctx.arch)
    if repos:
        return Origin("local-repo", "--repo " + " --repo ".join(repos))
    return None


def write_local_sbom(ctx: TaskContext, repo: Origin | None, choice: ImageChoice,
                     image_id: str, build_image: str, packages: BuildrootPackages,
                     srpm: Path, outputs: Sequence[Path], output_dir: Path) -> Path:
    """The document in ``output_dir``; ``outputs`` is empty after a failed build."""
    with ctx.logs.open("root.log") as log:
        inventory = buildroot_inventory(ctx, build_image, log)
    facts = document_facts(
        subject=f"local build of {srpm.name} on {ctx.arch}",
        namespace=f"https://koji-adjutant.invalid/sbom/local/{uuid.uuid4()}",
        inventory=inventory,
        origin=package_origins(packages, repo, choice.image, image_id),
        image=choice.image, image_id=image_id, buildroot_image_id=build_image,
        plugins=ctx.plugins, host=ctx.settings.host_name, srpm=srpm, outputs=outputs)
    return write_document(output_dir / SBOM_NAME, facts)
