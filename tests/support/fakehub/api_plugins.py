"""Calls of koji's hub plugins that make tasks for builder plugins: ``runroot``
(``runroot_hub``) and ``saveFailedTree`` (``save_failed_tree``).

Rules, as the real plugins:

- ``runroot(tagInfo, arch, command, channel=None, **opts)``: the ``runroot`` permission
  (or admin) → else 1004; ``arch`` must be one arch → else 1000; ``command`` a string or
  a list → else 1000; the tag must exist (1000); channel ``runroot`` unless named, and it
  must exist (1000). A ``noarch`` request on a tag that cannot do every known arch gets
  one of the tag's arches that hosts of the channel have (none → 1000). The task has
  priority 15 and ``[tagInfo, arch, command, {opts...}]`` as its request.
- ``saveFailedTree(buildrootID, full=False, **opts)``: the buildroot must exist (1000);
  its task must be FAILED and of a method ``SaveFailedTreeAllowedMethods`` admits → else
  1010 PreBuildError; only the task's owner or an admin → else 1004; the buildroot's host
  must be enabled (1010). The task is assigned straight to that host.
"""

from typing import Any

import koji

from .context import CallContext
from .registry import MethodTable
from .rules import as_int, find_channel, get_tag
from .state import TASK_FAILED
from .taskops import make_task

api = MethodTable()


@api.method("runroot")
def runroot(ctx: CallContext, /, tagInfo: Any, arch: Any, command: Any, channel: Any = None,
            **opts: Any) -> int:
    """A ``runroot`` task → its id (see the module doc for the rules)."""
    ctx.require_perm("runroot")
    arch = koji.parse_arches(arch, strict=True, allow_none=False)
    if not isinstance(command, str | list):
        raise koji.GenericError(f"Invalid type for value '{command}': {type(command)}")
    db = ctx.db
    chan = find_channel(db, channel or "runroot")
    if chan is None:
        raise koji.GenericError(f"No such channel: {channel or 'runroot'}")
    tag = get_tag(db, tagInfo)
    task_arch = arch
    if arch == "noarch":
        tag_arches = (tag.arches or "").split()  # the tag's own, as the real plugin
        if not tag_arches:
            raise koji.GenericError(f"no arches defined for tag {tag.name}")
        all_arches = {a for h in db.hosts.values() for a in h.arches}
        if all_arches - set(tag_arches):
            chan_arches = {koji.canonArch(a) for h in db.hosts.values()
                           if chan.id in h.channels and h.enabled for a in h.arches}
            choices = [a for a in tag_arches if a in chan_arches]
            if not choices:
                raise koji.GenericError(f"no common arches for tag/channel: "
                                        f"{tagInfo}/{chan.name}")
            task_arch = koji.canonArch(choices[0])
    args = koji.encode_args(tagInfo, arch, command, **opts)
    assert ctx.user_id is not None
    return make_task(db, ctx.now(), "runroot", args, owner=ctx.user_id, channel_id=chan.id,
                     arch=task_arch, priority=15).id


@api.method("saveFailedTree")
def save_failed_tree(ctx: CallContext, /, buildrootID: Any, full: Any = False,
                     **opts: Any) -> int:
    """A ``saveFailedTree`` task for the buildroot's host → its id (see the module doc)."""
    ctx.require_login()
    db = ctx.db
    br = db.buildroots.get(as_int(buildrootID, "buildrootID"))
    if br is None:
        raise koji.GenericError(f"No such buildroot: {buildrootID!r}")
    task = db.tasks[br.task_id]
    allowed = [m.strip() for m in ctx.core.config.SaveFailedTreeAllowedMethods.split(",")]
    if task.state != TASK_FAILED:
        raise koji.PreBuildError(f"Task {task.id} has not failed. Only failed tasks can "
                                 "upload their buildroots.")
    if allowed != ["*"] and task.method not in allowed:
        raise koji.PreBuildError(f"Only {', '.join(allowed)} tasks can upload their "
                                 f"buildroots (Task {task.id} is {task.method}).")
    if task.owner != ctx.user_id and not ctx.has_perm("admin"):
        raise koji.ActionNotAllowed("Only owner of failed task or 'admin' can run this task.")
    if not db.hosts[br.host_id].enabled:
        raise koji.PreBuildError("Host is disabled.")
    default = db.channel_by_name("default")
    assert default is not None and ctx.user_id is not None
    args = koji.encode_args(br.id, bool(full), **opts)
    return make_task(db, ctx.now(), "saveFailedTree", args, owner=ctx.user_id,
                     channel_id=default.id, assign=br.host_id).id
