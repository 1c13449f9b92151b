"""``rebuildSRPM(srpm, build_tag, opts)``: rebuild an uploaded SRPM with the tag's macros."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adjutant.worker.handlers.base import ContainerTaskHandler


class RebuildSRPMTask(ContainerTaskHandler):
    Methods = ["rebuildSRPM"]
    _taskWeight = 1.0

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        """Take the task only if this host shares an arch with the build tag."""
        return self.tag_shares_an_arch_with(self.params[1], hostdata)

    def handler(self, srpm: str, build_tag: Any, opts: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        local, original = self.fetch_srpm(srpm)
        uploaded, brootid = self.srpm_in_buildroot(
            build_tag, opts or {}, f"rebuildSRPM {original.nvr}", mode="rs", srpm=local,
            extra_args=["--nodeps"])
        name = Path(srpm).name
        return {"srpm": uploaded, "logs": self.finish_logs(), "brootid": brootid,
                "source": {"source": name, "url": name}}
