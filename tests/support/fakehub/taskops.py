"""Task life-cycle operations: create, assign/open, free, cancel, close, results.

These are the hub-internal operations; access checks belong to the callers (API functions or
the test-side API). Every state change is recorded in the history.
"""

import base64
from typing import Any

import koji
import koji.tasks
from koji.xmlrpcplus import Fault, dumps, loads

from .rules import find_tag, inheritance
from .state import (
    BUILD_BUILDING,
    BUILD_CANCELED,
    TASK_ASSIGNED,
    TASK_CANCELED,
    TASK_CLOSED,
    TASK_FAILED,
    TASK_FINISHED,
    TASK_FREE,
    TASK_OPEN,
    HubDB,
    Refusal,
    Task,
)

#: Task methods whose noarch instances get automatic hard refusals (hub's auto_arch_refuse).
AUTO_ARCH_METHODS = frozenset(
    {"buildArch", "buildMaven", "wrapperRPM", "rebuildSRPM", "buildSRPMFromSCM"}
)


def set_state(db: HubDB, task: Task, state: int, now: float) -> None:
    """Change a task's state and record the transition."""
    old = koji.TASK_STATES[task.state] if task.state is not None else None
    task.state = state
    db.record("task", task.id, old, koji.TASK_STATES[state], now)


def make_task(
    db: HubDB,
    now: float,
    method: str,
    arglist: list[Any] | tuple[Any, ...],
    *,
    owner: int,
    channel_id: int,
    arch: str = "noarch",
    priority: int = koji.PRIO_DEFAULT,
    parent: int | None = None,
    label: str | None = None,
    assign: int | None = None,
) -> Task:
    """Insert a FREE task (ASSIGNED with ``assign``) whose request is the XML-RPC encoding of
    ``arglist``, then add the automatic arch refusals."""
    if not isinstance(method, str):
        raise koji.ParameterError(f"Invalid type for method: {method!r}")
    arch = koji.parse_arches(arch, strict=True)
    request = dumps(tuple(arglist), methodname=method, allow_none=1)
    task = Task(
        id=db.next_id("tasks"),
        method=method,
        request=request,
        state=TASK_FREE,
        owner=owner,
        channel_id=channel_id,
        arch=arch,
        priority=int(priority),
        create_ts=now,
        parent=parent,
        label=label,
    )
    db.tasks[task.id] = task
    db.record("task", task.id, None, "FREE", now)
    if assign is not None:
        task.host_id = assign
        set_state(db, task, TASK_ASSIGNED, now)
    auto_arch_refuse(db, task, now)
    return task


def auto_arch_refuse(db: HubDB, task: Task, now: float) -> None:
    """Hard-refuse a noarch build task for hosts of its channel sharing no arch with its tag."""
    if task.arch != "noarch" or task.method not in AUTO_ARCH_METHODS:
        return
    try:
        params = koji.tasks.parse_task_params(task.method, decode_request(task))
        tag_ref = params["root"] if task.method == "buildArch" else params["build_tag"]
        tag = find_tag(db, tag_ref)
    except Exception:
        return  # the real hub logs and carries on
    if tag is None:
        return
    arches = next((t.arches for t in inheritance(db, tag) if t.arches), None) or ""
    tag_arches = {koji.canonArch(a) for a in arches.split()}
    if not tag_arches:
        return
    for host in db.hosts.values():
        in_channel = task.channel_id in host.channels and host.enabled
        if in_channel and not tag_arches.intersection(host.arches):
            db.refusals[(task.id, host.id)] = Refusal(
                task.id, host.id, soft=False, by_host=False,
                msg="automatic arch refusal", ts=now,
            )


def decode_request(task: Task) -> list[Any]:
    """The task's params as a list (as ``getTaskInfo(request=True)`` returns them)."""
    params, _method = loads(task.request)
    return list(params)


def lock(db: HubDB, task: Task, host_id: int, newstate: int, now: float) -> bool:
    """Assign or open ``task`` for a host, as the real hub's ``Task.lock``.

    Succeeds for a FREE task, or one ASSIGNED to ``host_id``; otherwise (assigned elsewhere,
    OPEN even by this host, CANCELED, CLOSED, FAILED) returns False and changes nothing.
    """
    if task.state == TASK_FREE:
        if task.host_id is not None:
            return False
    elif task.state == TASK_ASSIGNED:
        if task.host_id != host_id:
            return False
        if newstate == TASK_ASSIGNED:
            return True
    else:
        return False
    task.host_id = host_id
    if newstate == TASK_OPEN:
        task.start_ts = now
    set_state(db, task, newstate, now)
    return True


def free(db: HubDB, task: Task, now: float) -> None:
    """Back to FREE with no host; a finished task → 1000."""
    if task.state in TASK_FINISHED:
        raise koji.GenericError(
            f"Cannot free task {task.id}, state is {koji.TASK_STATES[task.state]}"
        )
    task.host_id = None
    set_state(db, task, TASK_FREE, now)


def cancel(db: HubDB, task: Task, now: float, recurse: bool = True) -> bool:
    """Cancel a task (and its BUILDING builds; its children with ``recurse``).

    Returns True if canceled now or before, False if it had already CLOSED or FAILED. A
    canceled task keeps its ``host_id``.
    """
    if task.state == TASK_CANCELED:
        return True
    if task.state in (TASK_CLOSED, TASK_FAILED):
        return False
    task.completion_ts = now
    set_state(db, task, TASK_CANCELED, now)
    for build in db.builds.values():
        if build.task_id == task.id and build.state == BUILD_BUILDING:
            build.state = BUILD_CANCELED
            build.completion_ts = now
            db.record("build", build.id, "BUILDING", "CANCELED", now)
    if recurse:
        cancel_children(db, task, now)
    return True


def cancel_children(db: HubDB, task: Task, now: float) -> None:
    for child in db.children(task.id):
        cancel(db, child, now, recurse=True)


def finish(db: HubDB, task: Task, response: Any, state: int, now: float) -> None:
    """Store ``response`` verbatim and move to CLOSED or FAILED."""
    task.result = response
    task.completion_ts = now
    set_state(db, task, state, now)


def get_result(task: Task, raise_fault: bool = True) -> Any:
    """Decode a finished task's stored response.

    CANCELED → 1000 ``Task N is canceled``; not finished → 1000 ``Task N is not finished``; a
    stored fault is raised as the :class:`Fault` it is (its own code) unless ``raise_fault`` is
    false, then returned as ``{'faultCode', 'faultString'}``.
    """
    if task.state == TASK_CANCELED:
        raise koji.GenericError(f"Task {task.id} is canceled")
    if task.state not in (TASK_CLOSED, TASK_FAILED):
        raise koji.GenericError(f"Task {task.id} is not finished")
    raw = task.result
    if isinstance(raw, str) and raw.find("<?xml", 0, 10) == -1:
        raw = base64.b64decode(raw)  # the hub's legacy base64 form
    try:
        result, _method = loads(raw)
    except Fault as fault:
        if raise_fault:
            raise
        return {"faultCode": fault.faultCode, "faultString": fault.faultString}
    return result[0]


def wait_check(db: HubDB, parent: int) -> tuple[list[int], list[int]]:
    """``[finished, unfinished]`` ids among the awaited children of ``parent``."""
    finished: list[int] = []
    unfinished: list[int] = []
    for child in sorted(db.children(parent), key=lambda t: t.id):
        if child.awaited:
            (finished if child.state in TASK_FINISHED else unfinished).append(child.id)
    return finished, unfinished
