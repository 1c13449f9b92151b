"""``buildArch(pkg, root, arch, keep_srpm, opts)``: build an SRPM's RPMs for one arch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import koji

from adjutant.rpm.header import read_rpm
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.handlers.base import ContainerTaskHandler


class BuildArchTask(ContainerTaskHandler):
    Methods = ["buildArch"]
    _taskWeight = 1.5

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        """Take the task only if this host shares an arch with the build tag."""
        return self.tag_shares_an_arch_with(self.params[1], hostdata)

    def handler(self, pkg: str, root: Any, arch: str, keep_srpm: bool,
                opts: dict[str, Any] | None = None) -> dict[str, Any]:
        opts = opts or {}
        self._arch = arch
        repo_info = self.repo_of(opts)
        repo_id = repo_info["id"]
        srpm, header = self.fetch_srpm(pkg)
        average = self.session.getAverageBuildDuration(header.name)
        if average:
            self.session.host.setTaskWeight(self.id, 1.5 + min(18.0, average / 4800.0))
        if arch == "noarch":
            self.taskinfo  # noqa: B018 - find_arch reads it; fetched here as kojid does
        hostdata = self.session.host.getHost()
        build_config = self.session.getBuildConfig(root, event=repo_info["create_event"])
        br_arch = self.find_arch(arch, hostdata, build_config)
        choice, image_id = self.image_for(br_arch, build_config["name"], build_config)

        with HubBuildroot(self.session, repo_id, br_arch, self.id) as broot, \
                self.open_log("root.log") as root_log:
            result, builddir = self.rpmbuild_in_buildroot(
                broot, root_log, choice, image_id, repo_id, build_config, br_arch,
                groups=("build",), requirements=header.requirements, srpm=srpm,
                mode="ra" if keep_srpm else "rebuild",
                target_arch=None if arch == "noarch" else arch)
            if not result.ok:
                raise self.fail_build(f"buildArch {header.nvr} on {br_arch}", result,
                                      "build.log", float(self.options.rpmbuild_timeout))
            rpms = self.take_results(builddir, "RPMS", ".rpm", root_log)
            srpms = self.take_results(builddir, "SRPMS", ".src.rpm", root_log) \
                if keep_srpm else []
            if not rpms:
                raise koji.BuildError(f"rpmbuild of {header.nvr} produced no RPMs")
            if keep_srpm and len(srpms) != 1:
                raise koji.BuildError(f"expected exactly one SRPM from {header.nvr}, got "
                                      f"{[p.name for p in srpms]}")
            self._write_noarch_digests(rpms)
            uploaded_rpms = self.upload_results(rpms)
            uploaded_srpms = self.upload_results(srpms)
        return {"rpms": uploaded_rpms, "srpms": uploaded_srpms, "logs": self.finish_logs(),
                "brootid": broot.id}

    def _write_noarch_digests(self, rpms: list[Path]) -> None:
        """``noarch_rpmdiff.json``: {task_id: {rpm file: digest}} for noarch RPMs.

        The hub uses equal digests only to skip its full rpmdiff of a noarch RPM built on
        several arches; unequal ones make it run the rpmdiff. kojid writes rpmdiff's own
        hash (which needs the rpm bindings); the payload digest is stricter, so it can only
        cost the hub a diff, never let differing packages through.
        """
        noarch = {p.name: read_rpm(p).payloadhash for p in rpms if p.name.endswith(".noarch.rpm")}
        if noarch:
            (self.logdir / "noarch_rpmdiff.json").write_text(json.dumps({str(self.id): noarch}))
