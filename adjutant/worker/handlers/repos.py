"""``newRepo`` (regenerate a tag's repo) and ``waitrepo`` (wait for a current one).

newRepo needs the hub's topdir mounted (read-only is enough) where ``topdir`` points:
the hub writes the new repo's package lists there, and the ``createrepo`` subtasks read
them. A host without it refuses the task, so another host takes it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import koji
import koji.tasks

from adjutant.worker.handlers.hubtask import HubTaskHandler

#: How long waitrepo waits at most, as kojid's (two hours).
WAITREPO_TIMEOUT = 120 * 60


class NewRepoTask(HubTaskHandler):
    Methods = ["newRepo"]
    _taskWeight = 0.1

    def handler(self, tag: Any, event: int | None = None, src: bool | None = None,
                debuginfo: bool | None = None, separate_src: bool | None = None,
                opts: dict[str, Any] | None = None) -> list[int]:
        legacy = {k: v for k, v in (("src", src), ("debuginfo", debuginfo),
                                     ("separate_src", separate_src)) if v is not None}
        if legacy and opts is not None:
            raise koji.ParameterError("newRepo takes either opts or the legacy flags "
                                      f"({', '.join(legacy)}), not both")
        repo_opts = dict(opts if opts is not None else legacy)
        tinfo = self.session.getTag(tag, strict=True, event=event)
        if not (Path(self.options.topdir) / "repos").is_dir():
            raise koji.tasks.RefuseTask(f"no access to {self.options.topdir}/repos: the hub's "
                                        "topdir is not mounted on this host")
        kwargs: dict[str, Any] = {"opts": repo_opts}
        if event is not None:
            kwargs["event"] = event
        repo_id, event_id = self.session.host.repoInit(tinfo["id"], task_id=self.id, **kwargs)
        path = Path(koji.PathInfo(self.options.topdir).repo(repo_id, tinfo["name"]))
        arches = sorted(d for d in os.listdir(path) if (path / d / "pkglist").is_file())
        oldrepo = None
        if self.options.createrepo_update:
            oldrepo = self.session.getRepo(tinfo["id"], state=koji.REPO_READY)
        children = {self.session.host.subtask(
            method="createrepo", arglist=[repo_id, arch, oldrepo], label=arch,
            parent=self.id, arch="noarch"): arch for arch in arches}
        results = self.wait(list(children), all=True, failany=True)
        self.session.host.repoDone(
            repo_id, {children[child]: result for child, result in results.items()})
        return [repo_id, event_id]


class WaitrepoTask(HubTaskHandler):
    Methods = ["waitrepo"]
    _taskWeight = 0.2

    def handler(self, tag: Any, newer_than: Any = None, nvrs: list[str] | None = None,
                min_event: int | None = None) -> dict[str, Any]:
        tinfo = self.session.getTag(tag, strict=True)
        min_event = self._min_event(tinfo, newer_than, min_event)
        deadline = time.monotonic() + WAITREPO_TIMEOUT
        while True:
            found = self.session.repo.request(tinfo["id"], min_event=min_event)
            repo = found.get("repo")
            if repo and self._has_builds(tinfo["id"], repo, nvrs or []):
                return dict(repo)
            if time.monotonic() > deadline:
                raise koji.GenericError(f"no current repo of tag {tinfo['name']} after "
                                        f"{WAITREPO_TIMEOUT // 60} minutes")
            time.sleep(float(self.options.repo_wait_interval))

    def _min_event(self, tinfo: dict[str, Any], newer_than: Any, min_event: Any) -> Any:
        """The event the repo must be at least as new as, as kojid reads its arguments:
        ``min_event``; or the legacy ``newer_than``: ``"now"`` asks for a repo with every
        change the tag has had, a timestamp for one with the tag's first change after it
        (every change, when there was none since)."""
        if newer_than is None:
            return min_event
        if min_event is not None:
            raise koji.GenericError("newer_than and min_event args conflict")
        if isinstance(newer_than, str) and newer_than.lower() == "now":
            return self.session.tagLastChangeEvent(tinfo["id"])
        if isinstance(newer_than, (int, float)) and not isinstance(newer_than, bool):
            base = self.session.getLastEvent(before=newer_than, strict=False)
            first = self.session.tagFirstChangeEvent(
                tinfo["id"], after=base["id"] if base else None)
            return first or self.session.tagLastChangeEvent(tinfo["id"])
        raise koji.GenericError(f"Invalid value for newer_than: {newer_than!r} (a "
                                "timestamp or 'now')")

    def _has_builds(self, tag_id: int, repo: dict[str, Any], nvrs: list[str]) -> bool:
        if not nvrs:
            return True
        tagged = {b["nvr"] for b in self.session.listTagged(
            tag_id, event=repo["create_event"], inherit=True)}
        return all(nvr in tagged for nvr in nvrs)
