"""What a hub says a build of a tag, or a task that ran, was built with: the tag's build
config and repo, and for a task the image its root.log names.

The hub is read anonymously, through a koji client profile (``--profile``, read from
``~/.koji/config`` and ``/etc/koji.conf`` as the koji command reads them) or a worker's
kojid.conf (``-c``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import koji


class HubSourceError(Exception):
    """The hub cannot tell what is asked; the message says what was wrong and what to do."""


@dataclass(frozen=True)
class HubEndpoints:
    """Where the hub is: its XML-RPC ``server``, ``topurl`` and (where it is mounted
    here) ``topdir``."""

    server: str
    topurl: str | None
    topdir: str


def profile_endpoints(profile: str) -> HubEndpoints:
    """A koji client profile's hub, as ``koji -p PROFILE`` would use it."""
    try:
        config = koji.read_config(profile)
    except koji.ConfigurationError as exc:
        raise HubSourceError(f"--profile {profile}: {exc} (profiles are sections of "
                             "~/.koji/config, ~/.koji/config.d/*.conf, /etc/koji.conf and "
                             "/etc/koji.conf.d/*.conf)") from None
    return HubEndpoints(str(config["server"]), config.get("topurl") or None,
                        str(config.get("topdir") or "/mnt/koji"))


def anonymous_session(server: str) -> Any:
    """A session that logs in as nobody: only read calls."""
    return koji.ClientSession(server, {"max_retries": 2, "retry_interval": 2,
                                       "anon_retry": True})


@dataclass(frozen=True)
class HubBuild:
    """What to build against: the tag, its build config (at the repo's event), the repo
    and the buildroot arch. From a task, also the image it ran in (``image`` as root.log
    names it, ``image_id`` the id it had) and the arch it built for."""

    tag: str
    build_config: Mapping[str, Any]
    repo_id: int
    arch: str | None
    task_id: int | None = None
    target_arch: str | None = None
    image: str | None = None
    image_id: str | None = None


def for_tag(session: Any, tag: str) -> HubBuild:
    """A build of ``tag`` now: its current repo, its build config at that repo's event."""
    try:
        if session.getTag(tag) is None:
            raise HubSourceError(f"--tag {tag}: the hub has no such tag")
        repo = session.getRepo(tag)
    except koji.GenericError as exc:
        raise HubSourceError(f"--tag {tag}: the hub refused: {exc}") from None
    if repo is None:
        raise HubSourceError(f"--tag {tag}: the tag has no ready repo; ask for one "
                             f"('koji regen-repo {tag}') and try again")
    config = session.getBuildConfig(tag, event=repo["create_event"])
    return HubBuild(tag, config, int(repo["id"]), None)


_IMAGE = re.compile(r"^image: (\S+)$", re.MULTILINE)
_IMAGE_ID = re.compile(r"^image id: (sha256:[0-9a-f]+)$", re.MULTILINE)


def for_task(session: Any, task_id: int) -> HubBuild:
    """What buildArch task ``task_id`` built with: its buildroot's repo and arch, the tag's
    build config at that repo's event, and the image its root.log names."""
    try:
        task = session.getTaskInfo(task_id, request=True)
    except koji.GenericError as exc:
        raise HubSourceError(f"--task {task_id}: the hub refused: {exc}") from None
    if task is None:
        raise HubSourceError(f"--task {task_id}: the hub has no such task")
    if task["method"] != "buildArch":
        raise HubSourceError(f"--task {task_id} is a {task['method']} task; give the id of "
                             "a buildArch task (a child of the build task, one per arch)")
    roots = session.listBuildroots(taskID=task_id)
    if not roots:
        raise HubSourceError(f"--task {task_id}: the task has no buildroot on the hub (it "
                             "failed before its buildroot was made)")
    root = roots[-1]
    repo = session.repoInfo(root["repo_id"], strict=True)
    tag = str(repo["tag_name"])
    config = session.getBuildConfig(tag, event=repo["create_event"])
    try:
        log = session.downloadTaskOutput(task_id, "root.log").decode(errors="replace")
    except koji.GenericError as exc:
        raise HubSourceError(f"--task {task_id}: cannot read its root.log: {exc}") from None
    image = _IMAGE.search(log)
    if image is None:
        raise HubSourceError(f"--task {task_id}: its root.log names no image (was it run "
                             "by koji-adjutant?)")
    image_id = _IMAGE_ID.search(log)
    request = task.get("request") or []
    arch = request[2] if len(request) > 2 and isinstance(request[2], str) else None
    return HubBuild(tag, config, int(root["repo_id"]), str(root["arch"]), task_id,
                    None if arch in (None, "noarch") else arch, image.group(1),
                    image_id.group(1) if image_id else None)


def buildroot_arch(build: HubBuild, wanted: str | None) -> str:
    """The buildroot arch: the task's, else ``wanted`` (``--arch``), else this machine's;
    it must be one of the tag's arches."""
    if build.arch:
        return build.arch
    import os

    arch = str(koji.canonArch(wanted or os.uname().machine))
    arches = [koji.canonArch(a) for a in str(build.build_config.get("arches") or "").split()]
    if arch not in arches:
        raise HubSourceError(f"tag {build.tag} does not build for {arch} (its arches: "
                             f"{' '.join(arches) or 'none'}); pick one with --arch")
    return arch
