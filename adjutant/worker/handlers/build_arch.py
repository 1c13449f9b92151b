"""``buildArch(pkg, root, arch, keep_srpm, opts)``: build an SRPM's RPMs for one arch."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import koji

from adjutant.rpm.header import RpmHeaderError, read_rpm
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.emulation import NotBuiltHere, emulation_for, emulation_refusal
from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.steps.buildroot import prepared_buildroot
from adjutant.worker.steps.emulation import refuse_emulated
from adjutant.worker.steps.image import choose_image
from adjutant.worker.steps.results import take_results, upload, upload_logs, write_noarch_digests
from adjutant.worker.steps.rpmbuild import build_failure, run_rpmbuild, srpm_input
from adjutant.worker.steps.sbom import TaskSbom

log = logging.getLogger(__name__)


def check_kept_srpm(nvr: str, srpms: list[Path]) -> None:
    """kojid's checks of the SRPM a build keeps: exactly one, with the packager, vendor
    and distribution the build set (a spec may clear them). No binary RPM at all is
    allowed, as in kojid: a package whose subpackages are all for other arches."""
    if len(srpms) != 1:
        raise koji.BuildError(f"expected exactly one SRPM from {nvr}, got "
                              f"{[p.name for p in srpms]}")
    try:
        built = read_rpm(srpms[0])
    except RpmHeaderError as exc:
        raise koji.BuildError(f"the SRPM built from {nvr} is unreadable: {exc}") from None
    unset = [name for name, value in (("packager", built.packager), ("vendor", built.vendor),
                                      ("distribution", built.distribution)) if not value]
    if unset:
        raise koji.BuildError(
            f"{srpms[0].name} has no {', '.join(unset)} tag: the build sets them from the "
            "worker's packager, vendor and distribution settings (or the tag's rpm.macro.* "
            "extras); a spec or macro must not clear them")


class BuildArchTask(ContainerTaskHandler):
    Methods = ["buildArch"]
    _taskWeight = 1.5

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        """Take the task only if this host shares an arch with the build tag and builds
        the task's arch: natively, or emulated for a package allowed to build emulated
        (a refused task goes back to the hub, which gives it to another host)."""
        if not self.tag_shares_an_arch_with(self.params[1], hostdata):
            return False
        why = self._why_not_here()
        if why:
            log.info("refusing task %s (buildArch): %s", self.id, why)
        return why is None

    def _why_not_here(self) -> str | None:
        pkg, root, arch = self.params[:3]
        try:
            if emulation_for(self.options, arch) is None:
                return None
        except NotBuiltHere as exc:
            return str(exc)
        name = koji.parse_NVRA(os.path.basename(pkg))["name"]
        return emulation_refusal(self.options, self.session.getBuildConfig(root), name, arch)

    def handler(self, pkg: str, root: Any, arch: str, keep_srpm: bool,
                opts: dict[str, Any] | None = None) -> dict[str, Any]:
        repo_id = self.repo_id_of(opts or {})  # before the download, as kojid
        srpm, header = self.fetch_srpm(pkg)
        repo, host = self.read_start(repo_id, package=header.name,
                                     taskinfo=arch == "noarch")  # for find_arch
        build_config = self.session.getBuildConfig(root, event=repo["create_event"])
        ctx = self.context(self.find_arch(arch, host, build_config), build_config,
                           emulate=True)
        refuse_emulated(ctx, header.name)
        image = choose_image(ctx)
        with HubBuildroot(ctx.session, repo["id"], ctx.arch, ctx.task_id) as record, \
                ctx.logs.open("root.log") as root_log:
            with prepared_buildroot(ctx, image, record, repo["id"], ("build",),
                                    header.requirements, root_log) as buildroot:
                run = run_rpmbuild(ctx, buildroot, srpm_input(srpm),
                                   "ra" if keep_srpm else "rebuild", root_log,
                                   target_arch=None if arch == "noarch" else arch)
                sbom = TaskSbom.take(ctx, image, buildroot, srpm_input(srpm), root_log)
            if not run.ok:
                sbom.write()
                raise build_failure(ctx, f"buildArch {header.nvr} on {ctx.arch}", run.result)
            rpms = take_results(ctx, run.builddir, "RPMS", ".rpm", root_log)
            srpms = take_results(ctx, run.builddir, "SRPMS", ".src.rpm", root_log) \
                if keep_srpm else []
        if keep_srpm:
            check_kept_srpm(header.nvr, srpms)
        write_noarch_digests(ctx, rpms)
        sbom.write([*rpms, *srpms])
        return {"rpms": upload(ctx, rpms), "srpms": upload(ctx, srpms),
                "logs": upload_logs(ctx), "brootid": record.id}
