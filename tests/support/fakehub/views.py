"""The dicts the real hub returns for its rows (same keys, times as text plus ``*_ts``)."""

from typing import Any

import koji

from .state import (
    Build,
    Buildroot,
    Host,
    HubDB,
    Repo,
    Rpm,
    Session,
    Tag,
    Target,
    Task,
    format_time,
)


def task_info(task: Task) -> dict[str, Any]:
    """``getTaskInfo`` without ``request``."""
    return {
        "id": task.id,
        "state": task.state,
        "create_time": format_time(task.create_ts),
        "create_ts": task.create_ts,
        "start_time": format_time(task.start_ts),
        "start_ts": task.start_ts,
        "completion_time": format_time(task.completion_ts),
        "completion_ts": task.completion_ts,
        "channel_id": task.channel_id,
        "host_id": task.host_id,
        "parent": task.parent,
        "label": task.label,
        "waiting": task.waiting,
        "awaited": task.awaited,
        "owner": task.owner,
        "method": task.method,
        "arch": task.arch,
        "priority": task.priority,
        "weight": task.weight,
    }


def assigned_task(task: Task) -> dict[str, Any]:
    """A row of ``host.getTasks``."""
    return {
        "id": task.id,
        "state": task.state,
        "channel_id": task.channel_id,
        "host_id": task.host_id,
        "arch": task.arch,
        "method": task.method,
        "priority": task.priority,
        "create_ts": task.create_ts,
    }


def host_info(host: Host) -> dict[str, Any]:
    """``getHost`` / ``host.getHost``."""
    return {
        "id": host.id,
        "user_id": host.user_id,
        "name": host.name,
        "update_ts": host.update_ts,
        "ready": host.ready,
        "task_load": host.task_load,
        "arches": " ".join(host.arches),
        "capacity": host.capacity,
        "description": host.description,
        "comment": host.comment,
        "enabled": host.enabled,
    }


def session_info(session: Session) -> dict[str, Any]:
    """``getSessionInfo()`` for the caller's own session."""
    return {
        "user_id": session.user_id,
        "expired": session.expired,
        "master": session.master,
        "authtype": session.authtype,
        "callnum": session.callnum,
        "start_time": format_time(session.start_ts),
        "start_ts": session.start_ts,
        "update_time": format_time(session.update_ts),
        "update_ts": session.update_ts,
        "renew_time": format_time(session.renew_ts),
        "renew_ts": session.renew_ts,
        "exclusive": True if session.exclusive else None,
    }


def tag_info(tag: Tag) -> dict[str, Any]:
    """``getTag`` (no inheritance)."""
    return {
        "id": tag.id,
        "name": tag.name,
        "perm_id": None,
        "perm": tag.perm,
        "arches": tag.arches,
        "locked": tag.locked,
        "maven_support": False,
        "maven_include_all": False,
        "extra": dict(tag.extra),
    }


def target_info(db: HubDB, target: Target) -> dict[str, Any]:
    return {
        "id": target.id,
        "name": target.name,
        "build_tag": target.build_tag,
        "build_tag_name": db.tags[target.build_tag].name,
        "dest_tag": target.dest_tag,
        "dest_tag_name": db.tags[target.dest_tag].name,
    }


def repo_info(db: HubDB, repo: Repo) -> dict[str, Any]:
    """``repoInfo`` / ``getRepo`` (the ``'**'`` field set)."""
    event_ts = next((e.ts for e in db.events if e.id == repo.create_event), None)
    task_state = db.tasks[repo.task_id].state if repo.task_id in db.tasks else None
    return {
        "id": repo.id,
        "tag_id": repo.tag_id,
        "tag_name": db.tags[repo.tag_id].name,
        "creation_time": format_time(repo.creation_ts),
        "creation_ts": repo.creation_ts,
        "state_time": format_time(repo.creation_ts),
        "state_ts": repo.creation_ts,
        "create_event": repo.create_event,
        "create_ts": event_ts,
        "begin_event": repo.create_event,
        "begin_ts": event_ts,
        "end_event": None,
        "end_ts": None,
        "state": repo.state,
        "dist": repo.dist,
        "opts": dict(repo.opts),
        "custom_opts": {},
        "task_id": repo.task_id,
        "task_state": task_state,
    }


def rpm_info(db: HubDB, rpm: Rpm) -> dict[str, Any]:
    """``getRPM`` / ``listRPMs`` rows."""
    ext = db.external_repos.get(rpm.external_repo_id) if rpm.external_repo_id else None
    return {
        "id": rpm.id,
        "name": rpm.name,
        "version": rpm.version,
        "release": rpm.release,
        "nvr": f"{rpm.name}-{rpm.version}-{rpm.release}",
        "arch": rpm.arch,
        "epoch": rpm.epoch,
        "draft": rpm.draft,
        "payloadhash": rpm.payloadhash,
        "size": rpm.size,
        "buildtime": rpm.buildtime,
        "build_id": rpm.build_id,
        "buildroot_id": rpm.buildroot_id,
        "external_repo_id": rpm.external_repo_id or 0,
        "external_repo_name": ext.name if ext else "INTERNAL",
        "metadata_only": False,
        "extra": None,
    }


def build_info(db: HubDB, build: Build) -> dict[str, Any]:
    """``getBuild``."""
    owner = db.users.get(build.owner)
    return {
        "id": build.id,
        "build_id": build.id,
        "package_id": db.packages.get(build.name),
        "package_name": build.name,
        "name": build.name,
        "version": build.version,
        "release": build.release,
        "epoch": build.epoch,
        "nvr": build.nvr,
        "draft": build.draft,
        "state": build.state,
        "task_id": build.task_id,
        "owner_id": build.owner,
        "owner_name": owner.name if owner else None,
        "volume_id": 0,
        "volume_name": "DEFAULT",
        "creation_event_id": build.create_event,
        "creation_time": format_time(build.creation_ts),
        "creation_ts": build.creation_ts,
        "start_time": format_time(build.start_ts),
        "start_ts": build.start_ts,
        "completion_time": format_time(build.completion_ts),
        "completion_ts": build.completion_ts,
        "source": build.source,
        "extra": build.extra,
        "cg_id": None,
        "cg_name": None,
    }


def buildroot_info(db: HubDB, br: Buildroot) -> dict[str, Any]:
    """``getBuildroot`` / ``listBuildroots`` rows."""
    host = db.hosts[br.host_id]
    repo = db.repos.get(br.repo_id)
    tag = db.tags.get(repo.tag_id) if repo else None
    events = {e.id: e.ts for e in db.events}
    create_ts = events.get(br.create_event)
    retire_ts = events.get(br.retire_event) if br.retire_event else None
    repo_create_ts = events.get(repo.create_event) if repo else None
    return {
        "id": br.id,
        "br_type": koji.BR_TYPES["STANDARD"],
        "cg_id": None,
        "cg_name": None,
        "cg_version": None,
        "container_arch": br.arch,
        "arch": br.arch,
        "container_type": br.container_type,
        "host_os": None,
        "host_arch": None,
        "extra": None,
        "state": br.state,
        "task_id": br.task_id,
        "host_id": host.id,
        "host_name": host.name,
        "repo_id": br.repo_id,
        "repo_state": repo.state if repo else None,
        "tag_id": tag.id if tag else None,
        "tag_name": tag.name if tag else None,
        "create_event_id": br.create_event,
        "create_event_time": format_time(create_ts),
        "create_ts": create_ts,
        "retire_event_id": br.retire_event,
        "retire_event_time": format_time(retire_ts),
        "retire_ts": retire_ts,
        "repo_create_event_id": repo.create_event if repo else None,
        "repo_create_event_time": format_time(repo_create_ts),
    }
