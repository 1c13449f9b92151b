"""``host.*`` calls of the task life cycle: heartbeat, getting/opening/finishing tasks,
refusals, subtasks and waiting (protocol §3, §4).

Every call here needs a host user with an exclusive session (own, or its master's for a
subsession) → else 1002. Calls that act on a task need it OPEN and this host's → else 1004
``host N does not own task T``. The waiting calls check only the session, not ownership.
"""

import json
from typing import Any

import koji

from . import scheduler, taskops
from .context import CallContext
from .registry import MethodTable
from .rules import as_int, assert_owned, find_channel, get_task, host_owns
from .state import TASK_ASSIGNED, TASK_OPEN, Refusal
from .views import assigned_task, host_info, task_info

api = MethodTable()


@api.method("host.getID")
def get_id(ctx: CallContext, /) -> int:
    return ctx.require_host().id


@api.method("host.getHost", reads_only=True)
def get_host(ctx: CallContext, /) -> dict[str, Any]:
    """``{id, user_id, name, update_ts, ready, task_load, arches, capacity, ...}``."""
    return host_info(ctx.require_host())


def _set_host_data(ctx: CallContext, data: Any) -> None:
    if not isinstance(data, dict):
        raise koji.ParameterError("Host data should be a dictionary")
    host = ctx.require_host()
    host.data = dict(data)


@api.method("host.updateHost", always_writes=True)
def update_host(
    ctx: CallContext, /, task_load: Any, ready: Any, data: dict[str, Any] | None = None
) -> None:
    """The heartbeat: stores load and readiness and stamps ``update_ts`` (ready or not).

    ``data`` (the scheduler reads ``maxjobs``) must be a dict → else 1019.
    """
    host = ctx.require_host()
    load = float(task_load)
    if data is not None:
        _set_host_data(ctx, data)
    host.task_load = load
    host.ready = bool(ready)
    host.update_ts = ctx.now()


@api.method("host.setHostData", always_writes=True)
def set_host_data(ctx: CallContext, /, hostdata: Any) -> None:
    """Hub 1.34's way to send scheduler data (a dict, or its JSON text)."""
    ctx.require_host()
    if isinstance(hostdata, str):
        hostdata = json.loads(hostdata)
    _set_host_data(ctx, hostdata)


@api.method("host.getHostTasks", reads_only=True)
def get_host_tasks(ctx: CallContext, /) -> list[dict[str, Any]]:
    """The OPEN tasks this host owns as ``{id, waiting, weight}``, plus ``alert: True`` when
    the task waits and an awaited child has finished."""
    host = ctx.require_host()
    rows = []
    for task in sorted(ctx.db.tasks.values(), key=lambda t: t.id):
        if not host_owns(task, host):
            continue
        row: dict[str, Any] = {"id": task.id, "waiting": task.waiting, "weight": task.weight}
        if task.waiting and taskops.wait_check(ctx.db, task.id)[0]:
            row["alert"] = True
        rows.append(row)
    return rows


@api.method("host.getTasks")
def get_tasks(ctx: CallContext, /) -> list[dict[str, Any]]:
    """Tasks ASSIGNED to this host, by priority then age; when there are none the scheduler
    runs first (at most every ``RunInterval``)."""
    host = ctx.require_host()

    def assigned() -> list[dict[str, Any]]:
        mine = [t for t in ctx.db.tasks.values()
                if t.host_id == host.id and t.state == TASK_ASSIGNED]
        mine.sort(key=lambda t: (t.priority, t.create_ts, t.id))
        return [assigned_task(t) for t in mine]

    tasks = assigned()
    if not tasks:
        if scheduler.run(ctx.db, ctx.core.config, ctx.now()):
            ctx.wrote = True
        tasks = assigned()
    return tasks


@api.method("host.getLoadData")
def get_load_data(ctx: CallContext, /) -> list[Any]:
    """Pre-1.34 kojid's call; on 1.34+ hubs ``[[this host + channels], my assigned tasks]``."""
    host = ctx.require_host()
    info = host_info(host)
    info["channels"] = list(host.channels)
    return [[info], get_tasks(ctx)]


@api.method("host.refuseTask")
def refuse_task(ctx: CallContext, /, task_id: Any, soft: bool = True, msg: str = "") -> None:
    """Record a refusal and free the task; ignored for a task whose ``host_id`` is not this
    host. Freeing a finished task → 1000 (the refusal is rolled back with it)."""
    host = ctx.require_host()
    task = get_task(ctx.db, task_id)
    if task.host_id != host.id:
        return
    now = ctx.now()
    ctx.db.refusals[(task.id, host.id)] = Refusal(
        task.id, host.id, soft=bool(soft), by_host=True, msg=str(msg), ts=now
    )
    taskops.free(ctx.db, task, now)


@api.method("host.openTask")
def open_task(ctx: CallContext, /, task_id: Any) -> dict[str, Any] | None:
    """Open a task ASSIGNED to this host, or a FREE one → the full row with ``request`` as
    the raw XML string; anything else → None (no fault)."""
    host = ctx.require_host()
    task = get_task(ctx.db, task_id)
    if not taskops.lock(ctx.db, task, host.id, TASK_OPEN, ctx.now()):
        return None
    info = task_info(task)
    info["request"] = task.request
    return info


@api.method("host.setTaskWeight", always_writes=True)
def set_task_weight(ctx: CallContext, /, task_id: Any, weight: Any) -> None:
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, task_id)
    try:
        task.weight = float(weight)
    except (TypeError, ValueError):
        raise koji.ParameterError(f"Invalid type for weight: {weight!r}") from None


@api.method("host.closeTask")
def close_task(ctx: CallContext, /, task_id: Any, response: Any) -> None:
    """CLOSED with ``response`` stored verbatim (an XML-RPC methodResponse string)."""
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, task_id)
    taskops.finish(ctx.db, task, response, taskops.TASK_CLOSED, ctx.now())


@api.method("host.failTask")
def fail_task(ctx: CallContext, /, task_id: Any, response: Any) -> None:
    """FAILED with ``response`` (a methodResponse holding a fault) stored verbatim."""
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, task_id)
    taskops.finish(ctx.db, task, response, taskops.TASK_FAILED, ctx.now())


@api.method("host.freeTasks")
def free_tasks(ctx: CallContext, /, tasks: list[Any]) -> None:
    """Free the listed tasks this host owns; others are skipped silently."""
    host = ctx.require_host()
    for task_id in tasks:
        task = get_task(ctx.db, task_id)
        if host_owns(task, host):
            taskops.free(ctx.db, task, ctx.now())


@api.method("host.subtask")
def subtask(
    ctx: CallContext, /, method: str, arglist: list[Any], parent: Any, **opts: Any
) -> int:
    """Create a child of an owned task → its id.

    An existing child with the same ``(parent, label)`` is returned instead (any method,
    any state). New children are FREE, priority parent - 1 unless given, the parent's
    owner and arch unless given, the parent's channel unless ``channel`` is given.
    ``kwargs`` is appended to ``arglist`` as a ``__starstar`` struct. ``owner`` → 1004.
    """
    host = ctx.require_host()
    ptask = assert_owned(ctx.db, host, parent)
    if "owner" in opts:
        raise koji.ActionNotAllowed("The owner option is not allowed here")
    label = opts.get("label")
    if label is not None:
        if not isinstance(label, str):
            raise koji.ParameterError(f"Invalid type for label: {label!r}")
        for child in ctx.db.children(ptask.id):
            if child.label == label:
                return child.id
    if "kwargs" in opts:
        arglist = list(koji.encode_args(*arglist, **opts["kwargs"]))
    if "channel" in opts:
        channel = find_channel(ctx.db, opts["channel"])
        if channel is None:
            raise koji.GenericError(f"No such channel: {opts['channel']}")
        if not channel.enabled:
            raise koji.GenericError(f"Channel {channel.name} is disabled.")
        channel_id = channel.id
    else:
        channel_id = ptask.channel_id
    assign = opts.get("assign")
    if assign is not None:
        assign = as_int(assign, "assign")
    task = taskops.make_task(
        ctx.db,
        ctx.now(),
        method,
        arglist,
        owner=ptask.owner,
        channel_id=channel_id,
        arch=opts.get("arch") or ptask.arch,
        priority=as_int(opts.get("priority", ptask.priority - 1), "priority"),
        parent=ptask.id,
        label=label,
        assign=assign,
    )
    return task.id


@api.method("host.subtask2")
def subtask2(
    ctx: CallContext,
    /,
    __parent: Any,
    __taskopts: dict[str, Any],
    __method: str,
    *args: Any,
    **opts: Any,
) -> int:
    """:func:`subtask` with the child's params given as args/kwargs."""
    arglist = list(koji.encode_args(*args, **opts))
    return subtask(ctx, __method, arglist, __parent, **__taskopts)


@api.method("host.taskSetWait", always_writes=True)
def task_set_wait(ctx: CallContext, /, parent: Any, tasks: list[Any] | None) -> None:
    """Mark ``parent`` waiting and the listed children (all for None) awaited; other
    children lose the flag."""
    ctx.require_host()
    if tasks is not None and not isinstance(tasks, list):
        raise koji.ParameterError(f"Invalid type for tasks: {tasks!r}")
    pid = as_int(parent, "parent")
    if pid in ctx.db.tasks:
        ctx.db.tasks[pid].waiting = True
    wanted = None if tasks is None else {as_int(t, "task id") for t in tasks}
    for child in ctx.db.children(pid):
        if wanted is None or child.id in wanted:
            child.awaited = True
        elif child.awaited:
            child.awaited = False


@api.method("host.taskWait")
def task_wait(ctx: CallContext, /, parent: Any) -> list[list[int]]:
    """``[finished, unfinished]`` awaited children; finished ones stop being awaited."""
    ctx.require_host()
    finished, unfinished = taskops.wait_check(ctx.db, as_int(parent, "parent"))
    for task_id in finished:
        ctx.db.tasks[task_id].awaited = False
    return [finished, unfinished]


@api.method("host.taskWaitResults")
def task_wait_results(
    ctx: CallContext, /, parent: Any, tasks: list[Any] | None, canfail: list[Any] | None = None
) -> list[list[Any]]:
    """``[[task_id, result], ...]`` and the parent stops waiting.

    A FAILED child not in ``canfail`` raises its stored fault; a CANCELED one not in
    ``canfail`` or any unfinished one → 1000; ``canfail`` children that failed or were
    canceled come back as ``{'faultCode', 'faultString'}``. ``tasks`` None = all finished
    children.
    """
    ctx.require_host()
    pid = as_int(parent, "parent")
    canfail = canfail or []
    if pid in ctx.db.tasks:
        ctx.db.tasks[pid].waiting = False
    for child in ctx.db.children(pid):
        child.awaited = False
    if tasks is None:
        tasks = [t.id for t in sorted(ctx.db.children(pid), key=lambda t: t.id)
                 if t.state in taskops.TASK_FINISHED]
    results: list[list[Any]] = []
    for task_id in tasks:
        task = get_task(ctx.db, task_id)
        may_fail = task.id in canfail
        try:
            results.append([task.id, taskops.get_result(task, raise_fault=not may_fail)])
        except koji.GenericError as exc:
            if may_fail and task.state == taskops.TASK_CANCELED:
                results.append([task.id, {"faultCode": exc.faultCode, "faultString": str(exc)}])
                continue
            raise
    return results
