"""Look-ups by name or id, and the ownership and policy rules several call families share.

Every function raises the fault the real hub raises in the same situation, with its message.
"""

from collections.abc import Mapping
from typing import Any, TypeVar

import koji

from .context import CallContext
from .state import (
    TASK_OPEN,
    Build,
    Channel,
    ExternalRepo,
    Host,
    HubDB,
    Tag,
    Target,
    Task,
    User,
)


def as_int(value: Any, what: str) -> int:
    """``value`` as an int (bools refused), else 1019 as the hub's ``convert_value``."""
    if isinstance(value, bool):
        raise koji.ParameterError(f"Invalid type for {what}: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise koji.ParameterError(f"Invalid type for {what}: {value!r}") from None


_Row = TypeVar("_Row")


def get_by_id(table: Mapping[int, _Row], key: Any, what: str, missing: str) -> _Row:
    """The row with integer id ``key`` (``what`` names it when it is not an integer),
    else 1000 with ``missing`` (its ``{id}`` filled in), as the hub's look-ups do."""
    row_id = as_int(key, what)
    row = table.get(row_id)
    if row is None:
        raise koji.GenericError(missing.format(id=row_id))
    return row


def get_task(db: HubDB, task_id: Any) -> Task:
    """The task, else 1000 ``No such task: N``."""
    return get_by_id(db.tasks, task_id, "task_id", "No such task: {id}")


def host_owns(task: Task, host: Host | None) -> bool:
    """A task is owned by a host when it is OPEN and its ``host_id`` is that host."""
    return host is not None and task.state == TASK_OPEN and task.host_id == host.id


def assert_owned(db: HubDB, host: Host, task_id: Any) -> Task:
    """The task, if ``host`` owns it, else 1004 ``host N does not own task T``."""
    task = get_task(db, task_id)
    if not host_owns(task, host):
        raise koji.ActionNotAllowed(f"host {host.id} does not own task {task.id}")
    return task


def _name_or_id(info: Any) -> int | str:
    if isinstance(info, dict):
        if "id" in info:
            return as_int(info["id"], "id")
        if "name" in info:
            return str(info["name"])
        raise koji.ParameterError(f"Invalid name or id value: {info}")
    if isinstance(info, bool) or not isinstance(info, int | str):
        raise koji.ParameterError(f"Invalid name or id value: {info}")
    return info


def find_tag(db: HubDB, info: Any) -> Tag | None:
    key = _name_or_id(info)
    if isinstance(key, int):
        return db.tags.get(key)
    return db.tag_by_name(key)


def get_tag(db: HubDB, info: Any) -> Tag:
    """The tag, else 1000 ``No such tagInfo: ...``."""
    tag = find_tag(db, info)
    if tag is None:
        raise koji.GenericError(f"No such tagInfo: {info!r}")
    return tag


def find_target(db: HubDB, info: Any) -> Target | None:
    key = _name_or_id(info)
    if isinstance(key, int):
        return db.targets.get(key)
    return next((t for t in db.targets.values() if t.name == key), None)


def find_channel(db: HubDB, info: Any) -> Channel | None:
    key = _name_or_id(info)
    if isinstance(key, int):
        return db.channels.get(key)
    return db.channel_by_name(key)


def find_user(db: HubDB, info: Any) -> User | None:
    key = _name_or_id(info)
    if isinstance(key, int):
        return db.users.get(key)
    return db.user_by_name(key)


def find_host(db: HubDB, info: Any) -> Host | None:
    key = _name_or_id(info)
    if isinstance(key, int):
        return db.hosts.get(key)
    return next((h for h in db.hosts.values() if h.name == key), None)


def get_external_repo(db: HubDB, info: Any) -> ExternalRepo:
    """The external repo, else 1000 ``No such entry in table external_repo: <info>``."""
    key = _name_or_id(info)
    repo = db.external_repos.get(key) if isinstance(key, int) else db.external_repo_by_name(key)
    if repo is None:
        raise koji.GenericError(f"No such entry in table external_repo: {info}")
    return repo


def find_build(db: HubDB, info: Any) -> Build | None:
    """A build by id, ``N-V-R`` string or ``{'name', 'version', 'release'}``."""
    if isinstance(info, int) and not isinstance(info, bool):
        return db.builds.get(info)
    if isinstance(info, str):
        try:
            return db.builds.get(int(info))
        except ValueError:
            pass
        try:
            parts = koji.parse_NVR(info)
        except koji.GenericError:
            return None
    elif isinstance(info, dict):
        if "id" in info:
            return db.builds.get(as_int(info["id"], "id"))
        parts = info
    else:
        raise koji.GenericError(f"Invalid type for build info: {type(info)!r}")
    for build in db.builds.values():
        if (build.name, build.version, build.release) == (
            parts.get("name"),
            parts.get("version"),
            parts.get("release"),
        ):
            return build
    return None


def get_build(db: HubDB, info: Any) -> Build:
    build = find_build(db, info)
    if build is None:
        raise koji.GenericError(f"No such build: {info!r}")
    return build


def inheritance(db: HubDB, tag: Tag) -> list[Tag]:
    """``tag`` then its ancestors, depth first in priority order, each once."""
    order: list[Tag] = []
    seen: set[int] = set()

    def walk(current: Tag) -> None:
        if current.id in seen:
            return
        seen.add(current.id)
        order.append(current)
        for parent_id in current.parents:
            walk(db.tags[parent_id])

    walk(tag)
    return order


def tagged_builds(db: HubDB, tag: Tag, inherit: bool, latest: bool,
                  event: int | None = None) -> list[tuple[Build, Tag]]:
    """Builds tagged in ``tag`` (and ancestors with ``inherit``), newest first; with
    ``latest`` only the newest build of each package; with ``event`` only those tagged by
    that event."""
    result: list[tuple[Build, Tag]] = []
    seen_pkgs: set[str] = set()
    for source in inheritance(db, tag) if inherit else [tag]:
        for build_id in reversed(source.builds):
            if event is not None and source.tag_events.get(build_id, 0) > event:
                continue
            build = db.builds[build_id]
            if latest:
                if build.name in seen_pkgs:
                    continue
                seen_pkgs.add(build.name)
            result.append((build, source))
    return result


def check_policy(ctx: CallContext, name: str, data: dict[str, Any]) -> tuple[bool, str]:
    """Evaluate a configured policy; a missing policy allows (``MissingPolicyOk``)."""
    rule = ctx.core.policies.get(name)
    if rule is None:
        return True, "missing policy"
    return rule(data)


def assert_policy(ctx: CallContext, name: str, data: dict[str, Any]) -> None:
    """1004 ``policy violation (<name>): <reason>`` when the policy denies."""
    allowed, reason = check_policy(ctx, name, data)
    if not allowed:
        msg = f"policy violation ({name})"
        if reason:
            msg += f": {reason}"
        raise koji.ActionNotAllowed(msg)


def missing(strict: bool, message: str) -> Any:
    """Koji's look-up convention: an unknown object is None, or GenericError(message) when
    the caller asked for ``strict``. Returns None, typed Any so that look-ups can
    ``return missing(...)`` whatever they return when found."""
    if strict:
        raise koji.GenericError(message)
    return None
