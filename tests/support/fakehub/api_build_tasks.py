"""User calls around build tasks: ``chainBuild`` (the task ``koji chain-build`` makes) and
``listBuilds`` (which a chainbuild task asks for the builds of its build tasks).

As the real hub: ``chainBuild`` needs a login and a list of levels, and checks nothing
else (the target is the task's to check); a negative ``priority`` is for admins; the task
is owned by the caller, arch noarch, priority ``PRIO_DEFAULT + priority``, in ``channel``
(which must exist and be enabled) or ``default``.
"""

from typing import Any

import koji

from . import taskops
from .context import CallContext
from .registry import MethodTable
from .rules import as_int, find_channel
from .views import build_info

api = MethodTable()


@api.method("chainBuild", always_writes=True)
def chain_build(
    ctx: CallContext, /, srcs: Any, target: Any, opts: Any = None, priority: Any = None,
    channel: Any = None,
) -> int:
    """Create a ``chainbuild(srcs, target, opts)`` task → its id."""
    session = ctx.require_login()
    if not isinstance(srcs, list):
        raise koji.ParameterError(f"Invalid type for value '{srcs}': {type(srcs)}, "
                                  f"expected type {list}")
    task_priority = koji.PRIO_DEFAULT
    if priority:
        if as_int(priority, "priority") < 0 and not ctx.has_perm("admin"):
            raise koji.ActionNotAllowed("only admins may create high-priority tasks")
        task_priority = koji.PRIO_DEFAULT + as_int(priority, "priority")
    chan = find_channel(ctx.db, channel or "default")
    if chan is None:
        raise koji.GenericError(f"No such channel: {channel}")
    if not chan.enabled:
        raise koji.GenericError(f"Channel {chan.name} is disabled.")
    task = taskops.make_task(ctx.db, ctx.now(), "chainbuild", [srcs, target, opts or {}],
                             owner=session.user_id, channel_id=chan.id,
                             priority=task_priority)
    return task.id


@api.method("listBuilds")
def list_builds(
    ctx: CallContext, /, packageID: Any = None, userID: Any = None, taskID: Any = None,
    prefix: Any = None, state: Any = None, volumeID: Any = None, source: Any = None,
    createdBefore: Any = None, createdAfter: Any = None, completeBefore: Any = None,
    completeAfter: Any = None, type: Any = None, typeInfo: Any = None, queryOpts: Any = None,
    pattern: Any = None, cgID: Any = None, draft: Any = None,
) -> list[dict[str, Any]]:
    """Builds (``getBuild`` rows, by id) matching ``packageID``, ``userID``, ``taskID``
    (-1: any task), ``state`` and ``draft``. The fake implements no other filter and
    says so rather than ignoring one."""
    unsupported = [name for name, value in (
        ("prefix", prefix), ("volumeID", volumeID), ("source", source),
        ("createdBefore", createdBefore), ("createdAfter", createdAfter),
        ("completeBefore", completeBefore), ("completeAfter", completeAfter),
        ("type", type), ("typeInfo", typeInfo), ("queryOpts", queryOpts),
        ("pattern", pattern), ("cgID", cgID)) if value is not None]
    if unsupported:
        raise koji.GenericError(f"fake hub: listBuilds filters {unsupported} not implemented")
    rows = []
    for build in sorted(ctx.db.builds.values(), key=lambda b: b.id):
        if packageID is not None and ctx.db.packages.get(build.name) != \
                as_int(packageID, "packageID"):
            continue
        if userID is not None and build.owner != as_int(userID, "userID"):
            continue
        if taskID is not None and not ((build.task_id is not None and taskID == -1)
                                       or build.task_id == as_int(taskID, "taskID")):
            continue
        if state is not None and build.state != as_int(state, "state"):
            continue
        if draft is not None and build.draft != bool(draft):
            continue
        rows.append(build_info(ctx.db, build))
    return rows
