"""The SRPM-in-buildroot pipeline rebuildSRPM and buildSRPMFromSCM share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import koji

from adjutant.rpm.header import read_rpm
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.context import TaskContext
from adjutant.worker.steps.buildroot import Buildroot, prepared_buildroot
from adjutant.worker.steps.image import choose_image
from adjutant.worker.steps.results import take_results, upload
from adjutant.worker.steps.rpmbuild import BuildInput, build_failure, run_rpmbuild
from adjutant.worker.steps.sbom import TaskSbom

#: Given the prepared buildroot, provides rpmbuild's input (e.g. an SCM checkout made in
#: a container of that buildroot).
InputStep = Callable[[Buildroot], BuildInput]


@dataclass(frozen=True)
class BuiltSRPM:
    """The SRPM uploaded (its path relative to ``work/``) and the buildroot's hub id."""

    path: str
    brootid: int


def srpm_in_buildroot(ctx: TaskContext, repo_id: int, what: str, mode: str,
                      build_input: InputStep, extra_args: Sequence[str] = ()) -> BuiltSRPM:
    """An ``srpm-build`` buildroot of the tag's repo, rpmbuild ``mode`` in it, exactly one
    SRPM named after its own N-V-R, uploaded. Failures name ``what``."""
    image = choose_image(ctx)
    with HubBuildroot(ctx.session, repo_id, ctx.arch, ctx.task_id) as record, \
            ctx.logs.open("root.log") as root_log:
        with prepared_buildroot(ctx, image, record, repo_id, ("srpm-build",), (),
                                root_log) as buildroot:
            source = build_input(buildroot)
            run = run_rpmbuild(ctx, buildroot, source, mode, root_log, extra_args=extra_args)
            sbom = TaskSbom.take(ctx, image, buildroot, source, root_log)
        if not run.ok:
            sbom.write()
            raise build_failure(ctx, what, run.result)
        produced = take_results(ctx, run.builddir, "SRPMS", ".src.rpm", root_log)
        if len(produced) != 1:
            raise koji.BuildError(f"expected exactly one SRPM, got {[p.name for p in produced]}")
        header = read_rpm(produced[0])
        if produced[0].name != f"{header.nvr}.src.rpm":
            raise koji.BuildError(f"SRPM name mismatch: {produced[0].name} != "
                                  f"{header.nvr}.src.rpm")
        sbom.write(produced)
        return BuiltSRPM(upload(ctx, produced)[0], record.id)
