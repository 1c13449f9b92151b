"""``chainbuild(srcs, target, opts)``: build groups of sources in order (kojid's contract).

``srcs`` is a list of levels; each level a list of SCM URLs (built by ``build`` subtasks
with ``target`` and ``opts``, all at once) and N-V-Rs of existing builds. Before a level
starts, a ``waitrepo`` subtask waits until the build tag's repo holds every build of the
previous level (those it built and those it named), so that a level builds against the
ones before it. A failed build fails the chain. No container of its own: it only creates
subtasks and waits.
"""

from __future__ import annotations

from typing import Any

import koji
from koji.daemon import SCM

from adjutant.worker.handlers.hubtask import HubTaskHandler


class ChainBuildTask(HubTaskHandler):
    Methods = ["chainbuild"]
    _taskWeight = 0.1

    def handler(self, srcs: list[list[str]], target: str,
                opts: dict[str, Any] | None = None) -> None:
        opts = dict(opts or {})
        if opts.get("scratch"):
            raise koji.BuildError("--scratch is not allowed with chain-builds: each level "
                                  "must be tagged for the next to build against it")
        target_info = self.session.getBuildTarget(target)
        if not target_info:
            raise koji.GenericError(f"unknown build target: {target}")
        previous: list[str] = []
        for level, sources in enumerate(srcs):
            if previous:
                self._wait_for_repo(target_info["build_tag_name"], previous, level)
            previous = self._build_level(level, sources, target, opts)
        return None

    def _wait_for_repo(self, build_tag: str, nvrs: list[str], level: int) -> None:
        """Until a repo of ``build_tag`` holds ``nvrs``."""
        child = self.session.host.subtask(method="waitrepo", arglist=[build_tag, None, nvrs],
                                          label=f"wait {level}", parent=self.id)
        self.wait(child, all=True, failany=True)

    def _build_level(self, level: int, sources: list[str], target: str,
                     opts: dict[str, Any]) -> list[str]:
        """Build the level's SCM sources; the N-V-Rs the next level must find in the repo
        (the builds made here and the N-V-Rs the level names)."""
        nvrs = [src for src in sources if not SCM.is_scm_url(src)]
        children = [self.session.host.subtask(method="build", arglist=[src, target, opts],
                                              label=f"build {level},{index}", parent=self.id)
                    for index, src in enumerate(sources) if SCM.is_scm_url(src)]
        if children:
            self.wait(children, all=True, failany=True)
        for child in children:
            builds = self.session.listBuilds(taskID=child)
            if builds:
                nvrs.append(builds[0]["nvr"])
        return nvrs
