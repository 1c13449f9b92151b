"""The SBOM step: ``buildroot.spdx.json`` beside the task's logs, from the buildroot's
inventory (:mod:`adjutant.worker.inventory`) and the build's files
(:mod:`adjutant.sbom.facts`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adjutant.logs.fanout import TaskLog
from adjutant.sbom.facts import document_facts, package_origins, write_document
from adjutant.sbom.inventory import (
    BuildrootInventory,
)
from adjutant.sbom.spdx import SBOM_NAME
from adjutant.worker.context import TaskContext
from adjutant.worker.inventory import buildroot_inventory
from adjutant.worker.steps.buildroot import Buildroot
from adjutant.worker.steps.image import TaskImage
from adjutant.worker.steps.rpmbuild import BuildInput


@dataclass(frozen=True)
class TaskSbom:
    """The SBOM of one task's build: its inventory is taken while the buildroot is there
    (:meth:`take`); :meth:`write` then writes ``buildroot.spdx.json`` among the task's logs
    (uploaded with them), after a failed build too, with no outputs."""

    ctx: TaskContext
    image: TaskImage
    buildroot: Buildroot
    build_input: BuildInput
    inventory: BuildrootInventory

    @classmethod
    def take(cls, ctx: TaskContext, image: TaskImage, buildroot: Buildroot,
             build_input: BuildInput, log: TaskLog) -> TaskSbom:
        inventory = buildroot_inventory(ctx, buildroot.image_id, log)
        log.line(f"sbom: {len(inventory.packages)} packages in the buildroot "
                 f"(listed in {SBOM_NAME})")
        return cls(ctx, image, buildroot, build_input, inventory)

    def write(self, outputs: Sequence[Path] = ()) -> Path:
        ctx, build_input = self.ctx, self.build_input
        hub = (ctx.settings.topurl or ctx.settings.server or "https://koji.invalid").rstrip("/")
        source = f" of {build_input.srpm.name}" if build_input.srpm else \
            f" of {build_input.scm_url}" if build_input.scm_url else ""
        facts = document_facts(
            subject=f"{ctx.method} task {ctx.task_id}{source} on {ctx.arch}",
            namespace=f"{hub}/sbom/{ctx.settings.host_name}/task-{ctx.task_id}/{uuid.uuid4()}",
            inventory=self.inventory,
            origin=package_origins(self.buildroot.packages, self.buildroot.repo,
                                   self.image.ref, self.image.image_id),
            image=self.image.ref, image_id=self.image.image_id,
            buildroot_image_id=self.buildroot.image_id, plugins=ctx.plugins,
            host=ctx.settings.host_name, srpm=build_input.srpm, outputs=outputs,
            scm_url=build_input.scm_url, scm_commit=build_input.scm_commit)
        return write_document(ctx.logs.path(SBOM_NAME), facts)
