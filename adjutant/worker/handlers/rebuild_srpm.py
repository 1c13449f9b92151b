"""``rebuildSRPM(srpm, build_tag, opts)``: rebuild an uploaded SRPM with the tag's macros."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import koji

from adjutant.rpm.header import read_rpm
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.handlers.base import ContainerTaskHandler


class RebuildSRPMTask(ContainerTaskHandler):
    Methods = ["rebuildSRPM"]
    _taskWeight = 1.0

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        """Take the task only if this host shares an arch with the build tag."""
        return self.tag_shares_an_arch_with(self.params[1], hostdata)

    def handler(self, srpm: str, build_tag: Any, opts: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        opts = opts or {}
        repo_info = self.repo_of(opts)
        repo_id = repo_info["id"]
        build_config = self.session.getBuildConfig(build_tag, event=repo_info["create_event"])
        hostdata = self.session.host.getHost()
        br_arch = self.find_arch("noarch", hostdata, build_config)
        self._arch = br_arch
        local, original = self.fetch_srpm(srpm)
        choice, image_id = self.image_for(br_arch, build_config["name"], build_config)
        with HubBuildroot(self.session, repo_id, br_arch, self.id) as broot, \
                self.open_log("root.log") as root_log:
            result, builddir = self.rpmbuild_in_buildroot(
                broot, root_log, choice, image_id, repo_id, build_config, br_arch,
                groups=("srpm-build",), requirements=(), srpm=local, mode="rs",
                extra_args=["--nodeps"])
            if not result.ok:
                raise self.fail_build(f"rebuildSRPM {original.nvr}", result, "build.log")
            produced = sorted((builddir / "SRPMS").glob("*.src.rpm"))
            if len(produced) != 1:
                names = [p.name for p in produced]
                raise koji.BuildError(f"expected exactly one SRPM, got {names}")
            new = read_rpm(produced[0])
            if produced[0].name != f"{new.nvr}.src.rpm":
                raise koji.BuildError(f"SRPM {produced[0].name} is not named {new.nvr}.src.rpm")
            uploaded = self.upload_results(produced)[0]
        name = Path(srpm).name
        return {"srpm": uploaded, "logs": self.finish_logs(), "brootid": broot.id,
                "source": {"source": name, "url": name}}
