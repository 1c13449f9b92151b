"""Buildroot bookkeeping (protocol §6): ``host.newBuildRoot`` and friends, plus the
read-only ``listBuildroots``, ``getBuildroot`` and ``getBuildrootListing``.

Rules: all ``host.*`` calls need the locked host session; the buildroot must be the
caller's → else 1004 ``Host N not owner of buildroot B`` (unknown id → 1000). A ``task_id``
argument must name a task the caller owns (1004) that is the buildroot's task → else 1004
``Task T does not have lock on buildroot B``. ``setBuildRootList`` only in INIT,
``updateBuildRootList`` only in BUILDING; no move to INIT; EXPIRED → EXPIRED is a no-op and
EXPIRED → anything else → 1000.
"""

from typing import Any

import koji

from .context import CallContext
from .registry import MethodTable
from .rules import (
    as_int,
    assert_owned,
    find_host,
    find_tag,
    get_by_id,
    get_external_repo,
    missing,
)
from .state import BR_BUILDING, BR_EXPIRED, BR_INIT, Buildroot, Host, HubDB, Rpm
from .views import buildroot_info

api = MethodTable()

#: Fields an external rpm entry must carry, with their allowed types.
_EXTERNAL_RPM_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("name", str),
    ("version", str),
    ("release", str),
    ("epoch", (int, type(None))),
    ("arch", str),
    ("payloadhash", str),
    ("size", int),
    ("buildtime", int),
)


class _NotNullViolation(Exception):
    """What the real hub's database raises for a buildroot without a task (fault code 1)."""


def _load(db: HubDB, brootid: Any) -> Buildroot:
    return get_by_id(db.buildroots, brootid, "brootid", "no buildroot with ID: {id}")


def _checked(ctx: CallContext, brootid: Any, task_id: Any) -> Buildroot:
    host = ctx.require_host()
    if task_id is not None:
        assert_owned(ctx.db, host, task_id)
    br = _load(ctx.db, brootid)
    if br.host_id != host.id:
        raise koji.ActionNotAllowed(f"Host {host.id} not owner of buildroot {br.id}")
    if task_id is not None and as_int(task_id, "task_id") != br.task_id:
        raise koji.ActionNotAllowed(f"Task {task_id} does not have lock on buildroot {br.id}")
    return br


@api.method("host.newBuildRoot")
def new_buildroot(
    ctx: CallContext, /, repo: Any, arch: str, task_id: Any = None
) -> int:
    """A standard buildroot in state INIT for this host, repo and task → its id.

    Without ``task_id`` the real hub hits a NOT NULL column: fault code 1 here too.
    """
    host = ctx.require_host()
    if task_id is not None:
        assert_owned(ctx.db, host, task_id)
    arch = koji.parse_arches(arch, strict=True)
    repo_id = as_int(repo, "repo")
    if repo_id not in ctx.db.repos:
        raise _NotNullViolation(f"insert or update on buildroot violates foreign key: repo {repo}")
    if task_id is None:
        raise _NotNullViolation('null value in column "task_id" violates not-null constraint')
    now = ctx.now()
    br = Buildroot(
        id=ctx.db.next_id("buildroots"),
        host_id=host.id,
        repo_id=repo_id,
        task_id=as_int(task_id, "task_id"),
        arch=arch,
        container_type="chroot",
        state=BR_INIT,
        create_event=ctx.db.new_event(now),
    )
    ctx.db.buildroots[br.id] = br
    ctx.db.record("buildroot", br.id, None, "INIT", now)
    return br.id


@api.method("host.setBuildRootState")
def set_buildroot_state(ctx: CallContext, /, brootid: Any, state: Any, task_id: Any = None) -> None:
    """Move a buildroot to ``state`` (name or number); see the module rules."""
    br = _checked(ctx, brootid, task_id)
    if isinstance(state, str):
        new = koji.BR_STATES[state]
    else:
        new = as_int(state, "state")
        koji.BR_STATES[new]  # unknown number → KeyError → fault 1, as on the real hub
    if new == BR_INIT:
        raise koji.GenericError("Cannot change buildroot state to INIT")
    if br.state == BR_EXPIRED:
        if new == BR_EXPIRED:
            return
        raise koji.GenericError(f"buildroot {br.id} is EXPIRED")
    now = ctx.now()
    old = br.state
    br.state = new
    if new == BR_EXPIRED:
        br.retire_event = ctx.db.new_event(now)
    ctx.db.record("buildroot", br.id, koji.BR_STATES[old], koji.BR_STATES[new], now)


@api.method("host.setBuildRootList")
def set_buildroot_list(
    ctx: CallContext, /, brootid: Any, rpmlist: list[dict[str, Any]], task_id: Any = None
) -> None:
    """The initial package list; only in INIT. See :func:`resolve_rpm` for entries."""
    br = _checked(ctx, brootid, task_id)
    if br.state != BR_INIT:
        raise koji.GenericError(f"buildroot {br.id} in wrong state {br.state}")
    _add_listing(ctx.db, br, rpmlist, update=False)


@api.method("host.updateBuildRootList")
def update_buildroot_list(
    ctx: CallContext, /, brootid: Any, rpmlist: list[dict[str, Any]], task_id: Any = None
) -> None:
    """Packages added during the build; only in BUILDING; already listed rpms are skipped."""
    br = _checked(ctx, brootid, task_id)
    if br.state != BR_BUILDING:
        raise koji.GenericError(f"buildroot {br.id} in wrong state {br.state}")
    _add_listing(ctx.db, br, rpmlist, update=True)


def _add_listing(db: HubDB, br: Buildroot, rpmlist: list[dict[str, Any]], update: bool) -> None:
    current = {rpm_id for rpm_id, _ in br.listing}
    ids = []
    for entry in rpmlist:
        rpm_id = resolve_rpm(db, entry).id
        if update and rpm_id in current:
            continue
        ids.append(rpm_id)
    for rpm_id in sorted(ids):
        br.listing.append((rpm_id, update))


def resolve_rpm(db: HubDB, entry: dict[str, Any]) -> Rpm:
    """The rpm a buildroot list entry names, creating external rpms as needed.

    Without ``location``: a known rpm by ``id``, else by N-V-R.A → else 1000 ``No such rpm``.
    With ``location``: the external repo must exist (1000), the 8 fields must be present and
    typed (1000); an existing external rpm with the same N-V-R.A in that repo must have the
    same payloadhash (1000 ``hash changed for external rpm``), otherwise it is created.
    """
    if not isinstance(entry, dict):
        raise koji.GenericError(f"Invalid type for rpminfo: {type(entry)!r}")
    location = entry.get("location")
    if not location:
        found = find_rpm(db, entry)
        if found is None:
            raise koji.GenericError(f"No such rpm: {entry!r}")
        return found
    for name, allowed in _EXTERNAL_RPM_FIELDS:
        if name not in entry:
            raise koji.GenericError(f"{name} field missing: {entry!r}")
        value = entry[name]
        if not isinstance(value, allowed) or (allowed is int and isinstance(value, bool)):
            raise koji.GenericError(f"Invalid value for {name}: {value!r}")
    ext = get_external_repo(db, location)
    nvra = (entry["name"], entry["version"], entry["release"], entry["arch"])
    for rpm in db.rpms.values():
        if rpm.external_repo_id == ext.id and (rpm.name, rpm.version, rpm.release,
                                                rpm.arch) == nvra:
            if rpm.payloadhash != entry["payloadhash"]:
                disp = f"{'-'.join(nvra[:3])}.{nvra[3]}@{ext.name}"
                raise koji.GenericError(
                    f"hash changed for external rpm: {disp} "
                    f"({rpm.payloadhash} -> {entry['payloadhash']})"
                )
            return rpm
    rpm = Rpm(
        id=db.next_id("rpms"),
        name=entry["name"],
        version=entry["version"],
        release=entry["release"],
        arch=entry["arch"],
        epoch=entry["epoch"],
        payloadhash=entry["payloadhash"],
        size=entry["size"],
        buildtime=entry["buildtime"],
        external_repo_id=ext.id,
    )
    db.rpms[rpm.id] = rpm
    return rpm


def find_rpm(db: HubDB, info: Any) -> Rpm | None:
    """An rpm by id (int or digits), ``N-V-R.A`` string or dict (``id`` wins over N-V-R.A).

    Several matches: internal before external, then the highest id.
    """
    if isinstance(info, int) and not isinstance(info, bool):
        return db.rpms.get(info)
    if isinstance(info, str):
        if info.isdigit():
            return db.rpms.get(int(info))
        info = koji.parse_NVRA(info)
    if not isinstance(info, dict):
        raise koji.GenericError(f"Invalid type for rpminfo: {type(info)!r}")
    if "id" in info:
        return db.rpms.get(as_int(info["id"], "id"))
    key = (info.get("name"), info.get("version"), info.get("release"), info.get("arch"))
    matches = [r for r in db.rpms.values() if (r.name, r.version, r.release, r.arch) == key]
    if not matches:
        return None
    matches.sort(key=lambda r: (r.external_repo_id is None, r.id))
    return matches[-1]


@api.method("getBuildroot")
def get_buildroot(ctx: CallContext, /, buildrootID: Any, strict: bool = False) -> Any:
    br = ctx.db.buildroots.get(as_int(buildrootID, "buildrootID"))
    if br is None:
        return missing(strict, f"No such buildroot: {buildrootID!r}")
    return buildroot_info(ctx.db, br)


@api.method("listBuildroots", reads_only=True)
def list_buildroots(
    ctx: CallContext,
    /,
    hostID: Any = None,
    tagID: Any = None,
    state: Any = None,
    rpmID: Any = None,
    archiveID: Any = None,
    taskID: Any = None,
    buildrootID: Any = None,
    repoID: Any = None,
    queryOpts: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Buildroots matching all given filters (``state`` and ``buildrootID`` may be lists)."""
    host: Host | None = find_host(ctx.db, hostID) if hostID is not None else None
    tag = find_tag(ctx.db, tagID) if tagID is not None else None
    states = state if isinstance(state, list) else None if state is None else [state]
    br_ids = (buildrootID if isinstance(buildrootID, list)
              else None if buildrootID is None else [buildrootID])
    rows = []
    for br in sorted(ctx.db.buildroots.values(), key=lambda b: b.id):
        repo = ctx.db.repos.get(br.repo_id)
        if hostID is not None and (host is None or br.host_id != host.id):
            continue
        if tagID is not None and (tag is None or repo is None or repo.tag_id != tag.id):
            continue
        if states is not None and br.state not in states:
            continue
        if rpmID is not None and rpmID not in {r for r, _ in br.listing}:
            continue
        if archiveID is not None:
            continue
        if taskID is not None and br.task_id != taskID:
            continue
        if br_ids is not None and br.id not in br_ids:
            continue
        if repoID and br.repo_id != repoID:
            continue
        rows.append(buildroot_info(ctx.db, br))
    return rows


@api.method("getBuildrootListing")
def get_buildroot_listing(ctx: CallContext, /, id: Any) -> list[dict[str, Any]]:
    """The rpms listed in a buildroot: ``{rpm_id, is_update, name, version, release, epoch,
    arch, build_id, draft, external_repo_id, external_repo_name}``."""
    br = _load(ctx.db, id)
    rows = []
    for rpm_id, is_update in br.listing:
        rpm = ctx.db.rpms[rpm_id]
        ext = ctx.db.external_repos.get(rpm.external_repo_id) if rpm.external_repo_id else None
        rows.append({
            "rpm_id": rpm.id,
            "is_update": is_update,
            "name": rpm.name,
            "version": rpm.version,
            "release": rpm.release,
            "epoch": rpm.epoch,
            "arch": rpm.arch,
            "build_id": rpm.build_id,
            "draft": rpm.draft,
            "external_repo_id": rpm.external_repo_id or 0,
            "external_repo_name": ext.name if ext else "INTERNAL",
        })
    return rows
