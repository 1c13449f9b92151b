"""``tagNotification`` and ``buildNotification``: mails about tag operations and builds.

The hub makes these tasks (unless ``DisableNotifications``) for the recipients it
chose; they read the hub and send through ``smtphost``. No recipients: nothing is sent
and the result is None, as with kojid.
"""

from __future__ import annotations

import sys
from typing import Any

import koji
import koji.util

from adjutant.worker.handlers.hubtask import HubTaskHandler
from adjutant.worker.notices import TaskReport, build_mail, send, tag_mail


class TagNotificationTask(HubTaskHandler):
    Methods = ["tagNotification"]
    _taskWeight = 0.1

    def handler(self, recipients: list[str], is_successful: bool, tag_info: Any,
                from_info: Any, build_info: Any, user_info: Any,
                ignore_success: bool | None = None, failure_msg: str = "") -> str | None:
        if not recipients or (ignore_success and is_successful):
            return None
        build = self.session.getBuild(build_info, strict=True)
        user = self.session.getUser(user_info, strict=True)
        tag = self.session.getTag(tag_info, strict=True)["name"] if tag_info else None
        from_tag = self.session.getTag(from_info, strict=True)["name"] if from_info else None
        sent = send(self.options, tag_mail(
            build=build, user_name=user["name"], tag=tag, from_tag=from_tag,
            successful=bool(is_successful), failure_msg=failure_msg or "",
            from_addr=self.options.from_addr, recipients=recipients), recipients)
        return f"sent notification of tag operation {self.id} {sent}"


class BuildNotificationTask(HubTaskHandler):
    Methods = ["buildNotification"]
    _taskWeight = 0.1

    def handler(self, recipients: list[str], build: dict[str, Any],
                target: dict[str, Any] | None, weburl: str) -> str | None:
        if not recipients:
            return None
        tasks: dict[int, TaskReport] = {}
        if build.get("task_id"):
            self._collect(int(build["task_id"]), tasks)
        canceler = None
        if build["state"] == koji.BUILD_STATES["CANCELED"]:
            # The hub makes the notification task as the user who cancelled the build.
            owner = self.session.getTaskInfo(self.id)["owner"]
            canceler = self.session.getUser(owner)["name"] if owner else None
        changelog = koji.util.formatChangelog(self.session.getChangelogEntries(
            build["id"], queryOpts={"limit": 3}))
        sent = send(self.options, build_mail(
            build=build, dest_tag=target["dest_tag_name"] if target else None,
            # A worker always has topurl (load_config requires it).
            weburl=weburl, topurl=self.options.topurl or "", tasks=tasks, changelog=changelog,
            canceler=canceler, from_addr=self.options.from_addr, recipients=recipients),
            recipients)
        return f"sent notification of build {build['id']} {sent}"

    def _collect(self, task_id: int, tasks: dict[int, TaskReport]) -> None:
        """``task_id`` and its descendants, with their outcome and output files."""
        info = self.session.getTaskInfo(task_id)
        if not info:
            return
        host = self.session.getHost(info["host_id"]) if info.get("host_id") else None
        logs, rpms, srpms, misc = [], [], [], []
        outputs = self.session.listTaskOutput(task_id, all_volumes=True)
        for name in sorted(outputs):
            volumes = outputs[name]
            if name.endswith(".log"):
                logs += [(name, volume) for volume in volumes]
            elif name.endswith(".src.rpm"):
                srpms.append(name)
            elif name.endswith(".rpm"):
                rpms.append(name)
            else:
                misc += [(name, volume) for volume in volumes]
        # taskLabel names a build task's source when it is given the request.
        label = koji.taskLabel({**info, "request": self.session.getTaskRequest(task_id)})
        tasks[task_id] = TaskReport(
            id=task_id, method=info["method"], label=label, arch=info["arch"],
            build_arch=info.get("label") or "",
            state=koji.TASK_STATES[info["state"]].lower(),
            host=host["name"] if host else None, result=self._result(task_id),
            logs=logs, rpms=rpms, srpms=srpms, misc=misc)
        for child in self.session.getTaskChildren(task_id):
            self._collect(int(child["id"]), tasks)

    def _result(self, task_id: int) -> str:
        """The task's result, or the error it failed with, as one line of text."""
        try:
            result = self.session.getTaskResult(task_id)
        except Exception:  # the failure is the result to show
            exc = sys.exc_info()[1]
            text = getattr(exc, "faultString", None) or f"{type(exc).__name__}: {exc}"
            return str(text).strip() or "Unknown"
        return str(result) if result else "Unknown"
