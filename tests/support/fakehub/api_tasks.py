"""User-side task calls (reading tasks and results, canceling) and host/channel look-ups."""

from typing import Any

import koji

from . import taskops
from .context import CallContext
from .registry import MethodTable
from .rules import as_int, find_channel, find_host, get_task, host_owns, missing
from .state import TaskRun
from .views import host_info, task_info

api = MethodTable()


def _info(ctx: CallContext, task_id: Any, request: bool, strict: bool) -> dict[str, Any] | None:
    task = ctx.db.tasks.get(as_int(task_id, "task_id"))
    if task is None:
        return missing(strict, f"No such task: {task_id}")
    info = task_info(task)
    if request:
        info["request"] = taskops.decode_request(task)
    return info


@api.method("getTaskInfo", reads_only=True)
def get_task_info(
    ctx: CallContext, /, task_id: Any, request: bool = False, strict: bool = False
) -> Any:
    """A task's row (or a list of rows for a list of ids); ``request`` = the decoded params.

    An unknown id gives None unless ``strict``.
    """
    if isinstance(task_id, list):
        return [_info(ctx, t, request, strict) for t in task_id]
    return _info(ctx, task_id, request, strict)


@api.method("getTaskRequest")
def get_task_request(ctx: CallContext, /, taskId: Any) -> list[Any]:
    return taskops.decode_request(get_task(ctx.db, taskId))


@api.method("getTaskResult")
def get_task_result(ctx: CallContext, /, taskId: Any, raise_fault: bool = True) -> Any:
    """The decoded result; a stored fault is raised with its own code (see
    :func:`.taskops.get_result`)."""
    return taskops.get_result(get_task(ctx.db, taskId), raise_fault=raise_fault)


@api.method("taskFinished")
def task_finished(ctx: CallContext, /, taskId: Any) -> bool:
    return get_task(ctx.db, taskId).state in taskops.TASK_FINISHED


@api.method("getTaskChildren")
def get_task_children(
    ctx: CallContext, /, task_id: Any, request: bool = False, strict: bool = False
) -> list[dict[str, Any]]:
    if strict:
        get_task(ctx.db, task_id)
    rows = []
    for child in sorted(ctx.db.children(as_int(task_id, "task_id")), key=lambda t: t.id):
        row = task_info(child)
        if request:
            row["request"] = taskops.decode_request(child)
        rows.append(row)
    return rows


def _assert_may_cancel(ctx: CallContext, task_id: Any) -> taskops.Task:
    task = get_task(ctx.db, task_id)
    is_owner = ctx.user_id is not None and task.owner == ctx.user_id
    if not (is_owner or host_owns(task, ctx.caller_host()) or ctx.has_perm("admin")):
        raise koji.ActionNotAllowed("Cannot cancel task, not owner")
    return task


@api.method("cancelTask")
def cancel_task(ctx: CallContext, /, task_id: Any, recurse: bool = True) -> None:
    """Cancel a task (and its descendants): its owner, the host running it, or an admin."""
    task = _assert_may_cancel(ctx, task_id)
    taskops.cancel(ctx.db, task, ctx.now(), recurse=bool(recurse))


@api.method("cancelTaskChildren")
def cancel_task_children(ctx: CallContext, /, task_id: Any) -> None:
    ctx.require_login()
    task = _assert_may_cancel(ctx, task_id)
    taskops.cancel_children(ctx.db, task, ctx.now())


@api.method("freeTask")
def free_task(ctx: CallContext, /, task_id: Any) -> None:
    """Admin: put a task back to FREE."""
    ctx.require_perm("admin")
    taskops.free(ctx.db, get_task(ctx.db, task_id), ctx.now())


@api.method("assignTask")
def assign_task(
    ctx: CallContext, /, task_id: Any, host: Any, force: bool = False, override: bool = False
) -> bool:
    """Admin: assign a FREE task (any task with ``force``) to a host, bypassing the scheduler.

    Without ``override`` the assignment counts as a scheduler run (timers apply).
    """
    ctx.require_perm("admin")
    target = find_host(ctx.db, host)
    if target is None:
        raise koji.GenericError(f"Invalid hostInfo: {host}")
    task = get_task(ctx.db, task_id)
    if force:
        task.host_id = None
        task.state = taskops.TASK_FREE
    if not taskops.lock(ctx.db, task, target.id, taskops.TASK_ASSIGNED, ctx.now()):
        return False
    for old in ctx.db.task_runs:
        if old.task_id == task.id:
            old.active = False
    if not override:
        ctx.db.task_runs.append(TaskRun(task.id, target.id, ctx.now()))
    return True


@api.method("getHost")
def get_host(
    ctx: CallContext, /, hostInfo: Any, strict: bool = False, event: int | None = None
) -> dict[str, Any] | None:
    host = find_host(ctx.db, hostInfo)
    if host is None:
        return missing(strict, f"Invalid hostInfo: {hostInfo}")
    return host_info(host)


@api.method("listHosts")
def list_hosts(
    ctx: CallContext,
    /,
    arches: list[str] | None = None,
    channelID: Any = None,
    ready: bool | None = None,
    enabled: bool | None = None,
    userID: Any = None,
    queryOpts: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    rows = []
    channel = find_channel(ctx.db, channelID) if channelID is not None else None
    for host in sorted(ctx.db.hosts.values(), key=lambda h: h.id):
        if arches and not set(arches) & set(host.arches):
            continue
        if channelID is not None and (channel is None or channel.id not in host.channels):
            continue
        if ready is not None and host.ready != ready:
            continue
        if enabled is not None and host.enabled != enabled:
            continue
        if userID is not None and host.user_id != userID:
            continue
        rows.append(host_info(host))
    return rows


@api.method("getChannel")
def get_channel(
    ctx: CallContext, /, channelInfo: Any, strict: bool = False
) -> dict[str, Any] | None:
    channel = find_channel(ctx.db, channelInfo)
    if channel is None:
        return missing(strict, f"No such channel: {channelInfo}")
    return {"id": channel.id, "name": channel.name, "enabled": channel.enabled,
            "description": None, "comment": None}


@api.method("listChannels")
def list_channels(
    ctx: CallContext, /, hostID: Any = None, event: int | None = None,
    enabled: bool | None = None,
) -> list[dict[str, Any]]:
    host = find_host(ctx.db, hostID) if hostID is not None else None
    rows = []
    for channel in sorted(ctx.db.channels.values(), key=lambda c: c.id):
        if hostID is not None and (host is None or channel.id not in host.channels):
            continue
        if enabled is not None and channel.enabled != enabled:
            continue
        rows.append({"id": channel.id, "name": channel.name, "enabled": channel.enabled,
                     "description": None, "comment": None})
    return rows


@api.method("scheduler.getTaskRefusals")
def get_task_refusals(
    ctx: CallContext, /, clauses: list[list[Any]] | None = None, fields: Any = None
) -> list[dict[str, Any]]:
    """Refusal rows; ``clauses`` may hold ``[field, '=', value]`` filters."""
    rows = [
        {"task_id": r.task_id, "host_id": r.host_id, "by_host": r.by_host, "soft": r.soft,
         "msg": r.msg, "ts": r.ts}
        for r in ctx.db.refusals.values()
    ]
    for clause in clauses or []:
        name, op, value = clause
        if op != "=":
            raise koji.ParameterError(f"unsupported operator in fake hub: {op}")
        rows = [row for row in rows if row.get(name) == value]
    return rows
