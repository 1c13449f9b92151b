"""``rebuildSRPM(srpm, build_tag, opts)``: rebuild an uploaded SRPM with the tag's macros."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.steps.results import upload_logs
from adjutant.worker.steps.rpmbuild import srpm_input
from adjutant.worker.steps.srpm import srpm_in_buildroot


class RebuildSRPMTask(ContainerTaskHandler):
    Methods = ["rebuildSRPM"]
    _taskWeight = 1.0

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        """Take the task only if this host shares an arch with the build tag."""
        return self.tag_shares_an_arch_with(self.params[1], hostdata)

    def handler(self, srpm: str, build_tag: Any, opts: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        repo, host = self.read_start(self.repo_id_of(opts or {}), taskinfo=True)
        local, original = self.fetch_srpm(srpm)
        build_config = self.session.getBuildConfig(build_tag, event=repo["create_event"])
        ctx = self.context(self.find_arch("noarch", host, build_config), build_config)
        built = srpm_in_buildroot(ctx, repo["id"], f"rebuildSRPM {original.nvr}", "rs",
                                  lambda _buildroot: srpm_input(local),
                                  extra_args=["--nodeps"])
        name = Path(built.path).name  # kojid's: the rebuilt SRPM's (the dist may change it)
        return {"srpm": built.path, "logs": upload_logs(ctx), "brootid": built.brootid,
                "source": {"source": name, "url": name}}
