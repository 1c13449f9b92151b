"""``tagBuild(tag_id, build_id, force, fromtag, ignore_success)``: tag a finished build."""

from __future__ import annotations

import koji

from adjutant.worker.handlers.hubtask import HubTaskHandler


class TagBuildTask(HubTaskHandler):
    Methods = ["tagBuild"]
    _taskWeight = 1.0

    def handler(self, tag_id: int, build_id: int, force: bool = False,
                fromtag: int | None = None, ignore_success: bool = False) -> None:
        owner = self.session.getTaskInfo(self.id)["owner"]
        try:
            self.session.getBuild(build_id, strict=True)
            self.session.getTag(tag_id, strict=True)
            self.session.host.tagBuild(self.id, tag_id, build_id, force=force,
                                       fromtag=fromtag)
            self.session.host.tagNotification(True, tag_id, fromtag, build_id, owner,
                                              ignore_success)
        except koji.GenericError as exc:
            self.session.host.tagNotification(False, tag_id, fromtag, build_id, owner,
                                              ignore_success, f"{type(exc).__name__}: {exc}")
            raise
        return None
