"""Builds and rpms: the parent ``build`` task's host calls (initBuild, completeBuild,
failBuild, moveBuildToScratch, tagBuild, assertPolicy) and rpm/build look-ups.

The fake reads no rpm headers (the rpm Python module is not available): an imported rpm's
N-V-R.A comes from its file name ``N-V-R.A.rpm`` and its ``payloadhash`` is the md5 of the
file. ``completeBuild`` therefore checks that files exist under ``work/``, are named
N-V-R.A.rpm, and that the srpm's N-V-R is the build's; it cannot check ``sourcerpm``.
Identical noarch rpms from several arches are imported once (by file name).
"""

import datetime
import hashlib
import os
from pathlib import Path
from typing import Any

import koji

from adjutant.rpm.header import read_rpm

from .api_buildroots import find_rpm
from .api_tags import package_config
from .context import CallContext
from .registry import MethodTable
from .rules import (
    as_int,
    assert_owned,
    assert_policy,
    check_policy,
    find_build,
    get_build,
    get_tag,
    missing,
)
from .state import (
    BUILD_BUILDING,
    BUILD_CANCELED,
    BUILD_COMPLETE,
    BUILD_FAILED,
    Build,
    HubDB,
    Rpm,
)
from .views import build_info, rpm_info

api = MethodTable()


def _set_build_state(db: HubDB, build: Build, state: int, now: float) -> None:
    old = koji.BUILD_STATES[build.state]
    build.state = state
    db.record("build", build.id, old, koji.BUILD_STATES[state], now)


@api.method("host.initBuild")
def init_build(ctx: CallContext, /, data: dict[str, Any]) -> int:
    """A BUILDING build for ``data`` (``name, version, release, epoch, task_id``[, source,
    extra, draft]) owned by the task's owner → its id.

    The same task asking again gets the same build. A FAILED/CANCELED build of that NVR with
    no tag history and no rpms is recycled; any other existing build → 1000. A ``draft``
    build gets the release ``<release>,draft_<id>``, and is refused (1000) when a build of
    its target N-V-R exists, whatever its state.
    """
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, data.get("task_id"))
    for key in ("name", "version", "release", "epoch"):
        if key not in data:
            raise koji.GenericError(f"No {key} value for build")
    now = ctx.now()
    draft = bool(data.get("draft", False))
    old = find_build(ctx.db, {k: data[k] for k in ("name", "version", "release")})
    if old is not None:
        if draft:
            raise koji.GenericError(f"Target build already exists: {old.nvr} (id={old.id})")
        if old.state == BUILD_BUILDING:
            if old.task_id == task.id:
                return old.id
            raise koji.GenericError(f"Build already in progress (task {old.task_id})")
        if old.state not in (BUILD_FAILED, BUILD_CANCELED):
            raise koji.GenericError(
                f"Build already exists (id={old.id}, state={koji.BUILD_STATES[old.state]}): "
                f"{data!r}"
            )
        if any(old.id in t.builds for t in ctx.db.tags.values()):
            raise koji.GenericError("Build already exists. Unable to recycle, has tag history")
        if any(r.build_id == old.id for r in ctx.db.rpms.values()):
            raise koji.GenericError("Build already exists. Unable to recycle, has rpm data")
        old.task_id = task.id
        old.owner = task.owner
        old.epoch = data["epoch"]
        old.source = data.get("source")
        old.extra = data.get("extra")
        old.start_ts = now
        old.completion_ts = None
        _set_build_state(ctx.db, old, BUILD_BUILDING, now)
        return old.id
    ctx.db.package_id(data["name"])
    build = Build(
        id=ctx.db.next_id("builds"),
        name=data["name"],
        version=data["version"],
        release=data["release"],
        epoch=data["epoch"],
        state=BUILD_BUILDING,
        owner=task.owner,
        create_event=ctx.db.new_event(now),
        creation_ts=now,
        task_id=task.id,
        source=data.get("source"),
        extra=data.get("extra"),
        start_ts=now,
        draft=draft,
    )
    if draft:
        build.release = koji.gen_draft_release(build.release, build.id)
    ctx.db.builds[build.id] = build
    ctx.db.record("build", build.id, None, "BUILDING", now)
    return build.id


def _work_file(ctx: CallContext, relpath: str) -> Path:
    fn = ctx.core.workdir / relpath
    if not fn.exists():
        raise koji.GenericError(f"No such file: {fn}")
    return fn


def _dedup_noarch(rpms: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for relpath in rpms:
        base = os.path.basename(relpath)
        if base.endswith(".noarch.rpm"):
            if base in seen:
                continue
            seen.add(base)
        kept.append(relpath)
    return kept


def _nvra(relpath: str) -> dict[str, Any]:
    base = os.path.basename(relpath)
    if not base.endswith(".rpm"):
        raise koji.GenericError(f"not an rpm file name: {relpath}")
    try:
        return koji.parse_NVRA(base[: -len(".rpm")])
    except koji.GenericError:
        raise koji.GenericError(f"rpm file name is not N-V-R.A.rpm: {relpath}") from None


def _move_all(moves: list[tuple[Path, Path]]) -> None:
    """Move files into place, leaving a symlink where each was (as the real hub does).

    Every destination is checked first, so a clash (1000) moves nothing.
    """
    for _src, dest in moves:
        if dest.exists() or dest.is_symlink():
            raise koji.GenericError(f"Error importing file. {dest} already exists.")
    for src, dest in moves:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dest)
        os.symlink(os.path.relpath(dest, src.parent), src)


@api.method("host.completeBuild")
def complete_build(
    ctx: CallContext,
    /,
    task_id: Any,
    build_id: Any,
    srpm: str,
    rpms: list[str],
    brmap: dict[str, Any] | None = None,
    logs: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Import the build's files (paths relative to ``work/``) and mark it COMPLETE → the
    build info. Files go to ``packages/N/V/R/<arch>/``, logs to ``.../data/logs/<key>/``.

    A missing file, a file name that is not N-V-R.A.rpm, an srpm whose N-V-R is not the
    build's, an unknown buildroot in ``brmap`` or a build not BUILDING → 1000.
    """
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, task_id)
    brmap = brmap or {}
    if not isinstance(brmap, dict) or not isinstance(srpm, str) or not isinstance(rpms, list):
        raise koji.ParameterError("completeBuild: srpm must be a string, rpms a list, brmap a dict")
    for relpath in [srpm, *rpms]:
        _work_file(ctx, relpath)
    rpms = _dedup_noarch(rpms)
    for br_id in set(brmap.values()):
        if br_id is not None and as_int(br_id, "brootid") not in ctx.db.buildroots:
            raise koji.GenericError(f"no buildroot with ID: {br_id}")
    build = get_build(ctx.db, as_int(build_id, "build_id"))
    src = _nvra(srpm)
    if src["arch"] != "src":
        raise koji.GenericError(f"not a source package: {srpm}")
    if build.draft:  # the files carry the target release; the build, its draft one
        src["release"] = koji.gen_draft_release(src["release"], build.id)
    for key in ("name", "version", "release"):
        if src[key] != getattr(build, key):
            raise koji.GenericError(
                f"Unable to complete build: {key} mismatch "
                f"(build: {getattr(build, key)}, rpm: {src[key]})"
            )
    if build.task_id != task.id:
        raise koji.GenericError(
            f"Unable to complete build: task_id mismatch (build: {build.task_id}, rpm: {task.id})"
        )
    if build.state != BUILD_BUILDING:
        raise koji.GenericError(
            f"Unable to complete build: state is {koji.BUILD_STATES[build.state]}"
        )
    parsed = [(relpath, _nvra(relpath)) for relpath in [srpm, *rpms]]
    pathinfo = koji.PathInfo(topdir=str(ctx.core.topdir))
    builddir = Path(pathinfo.build({"name": build.name, "version": build.version,
                                    "release": build.release}))
    now = ctx.now()
    moves: list[tuple[Path, Path]] = []
    for relpath, nvra in parsed:
        fn = ctx.core.workdir / relpath
        data = fn.read_bytes()
        rpm = Rpm(
            id=ctx.db.next_id("rpms"),
            name=nvra["name"],
            version=nvra["version"],
            release=nvra["release"],
            arch=nvra["arch"],
            epoch=build.epoch,
            payloadhash=hashlib.md5(data).hexdigest(),
            size=len(data),
            buildtime=int(fn.stat().st_mtime),
            build_id=build.id,
            buildroot_id=brmap.get(relpath),
            draft=build.draft,
        )
        ctx.db.rpms[rpm.id] = rpm
        moves.append((fn, builddir / pathinfo.rpm(nvra)))
    for key, files in (logs or {}).items():
        logdir = builddir / "data" / "logs"
        if key:
            logdir = logdir / key
        for relpath in files:
            fn = _work_file(ctx, relpath)
            moves.append((fn, logdir / fn.name))
    _move_all(moves)
    build.completion_ts = now
    _set_build_state(ctx.db, build, BUILD_COMPLETE, now)
    return build_info(ctx.db, build)


@api.method("host.failBuild")
def fail_build(ctx: CallContext, /, task_id: Any, build_id: Any) -> None:
    """FAILED, for a build in BUILDING → else 1000."""
    host = ctx.require_host()
    assert_owned(ctx.db, host, task_id)
    build = get_build(ctx.db, as_int(build_id, "build_id"))
    if build.state != BUILD_BUILDING:
        raise koji.GenericError(
            f"cannot update build {build.id}, state: {koji.BUILD_STATES[build.state]}"
        )
    build.completion_ts = ctx.now()
    _set_build_state(ctx.db, build, BUILD_FAILED, ctx.now())


@api.method("host.moveBuildToScratch")
def move_build_to_scratch(
    ctx: CallContext,
    /,
    task_id: Any,
    srpm: str,
    rpms: list[str],
    logs: dict[str, list[str]] | None = None,
) -> None:
    """Move a scratch build's files to ``scratch/<owner>/task_<id>/`` (logs under
    ``logs/<key>/``); a missing file → 1000 before anything moves."""
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, task_id)
    for relpath in [srpm, *rpms]:
        _work_file(ctx, relpath)
    for files in (logs or {}).values():
        for relpath in files:
            _work_file(ctx, relpath)
    rpms = _dedup_noarch(rpms)
    owner = ctx.db.users[task.owner].name
    dest = ctx.core.topdir / "scratch" / owner / f"task_{task.id}"
    moves = [(ctx.core.workdir / p, dest / os.path.basename(p)) for p in [srpm, *rpms]]
    for key, files in (logs or {}).items():
        logdir = dest / "logs" / key if key else dest / "logs"
        moves += [(ctx.core.workdir / p, logdir / os.path.basename(p)) for p in files]
    _move_all(moves)


@api.method("host.assertPolicy")
def host_assert_policy(
    ctx: CallContext, /, name: str, data: dict[str, Any], default: str = "deny"
) -> None:
    """Denied by the configured policy → 1004 ``policy violation (<name>): <reason>``."""
    ctx.require_host()
    assert_policy(ctx, name, data)


@api.method("host.checkPolicy")
def host_check_policy(
    ctx: CallContext, /, name: str, data: dict[str, Any], default: str = "deny",
    strict: bool = False,
) -> list[Any]:
    ctx.require_host()
    if strict:
        assert_policy(ctx, name, data)
    allowed, reason = check_policy(ctx, name, data)
    return [allowed, reason]


@api.method("host.tagBuild")
def host_tag_build(
    ctx: CallContext, /, task_id: Any, tag: Any, build: Any, force: bool = False,
    fromtag: Any = None,
) -> None:
    """Tag a COMPLETE build as the task's owner: policy ``tag`` denial → 1004; package not
    listed or blocked in the tag → 1003; build not complete or already tagged → 1003."""
    host = ctx.require_host()
    task = assert_owned(ctx.db, host, task_id)
    binfo = get_build(ctx.db, build)
    taginfo = get_tag(ctx.db, tag)
    source = get_tag(ctx.db, fromtag) if fromtag is not None else None
    policy_data = {"tag": taginfo.id, "build": binfo.id, "fromtag": fromtag,
                   "user_id": task.owner, "operation": "move" if fromtag else "tag"}
    assert_policy(ctx, "tag", policy_data)
    config = package_config(ctx.db, taginfo, binfo.name)
    if config is None:
        raise koji.TagError(f"Package {binfo.name} not in list for {tag}")
    if config["blocked"]:
        raise koji.TagError(f"Package {binfo.name} blocked in {tag}")
    if binfo.state != BUILD_COMPLETE:
        raise koji.TagError(
            f"build {binfo.nvr} not complete: state {koji.BUILD_STATES[binfo.state]}"
        )
    if source is not None:
        if binfo.id not in source.builds:
            raise koji.TagError(f"build {binfo.nvr} not in tag {source.name}")
        source.builds.remove(binfo.id)
    if binfo.id in taginfo.builds:
        if not force:
            raise koji.TagError(f"build {binfo.nvr} already tagged ({taginfo.name})")
        taginfo.builds.remove(binfo.id)
    taginfo.builds.append(binfo.id)
    taginfo.change_event = taginfo.tag_events[binfo.id] = ctx.db.new_event(ctx.now())


@api.method("host.tagNotification")
def host_tag_notification(
    ctx: CallContext, /, is_successful: bool, tag_id: Any, from_id: Any, build_id: Any,
    user_id: Any, ignore_success: bool = False, failure_msg: str = "",
) -> None:
    """Accepted and dropped: the fake hub behaves as with ``DisableNotifications``."""
    ctx.require_host()


@api.method("getRPM")
def get_rpm(
    ctx: CallContext, /, rpminfo: Any, strict: bool = False, multi: bool = False
) -> Any:
    found = find_rpm(ctx.db, rpminfo)
    if found is None:
        if strict:
            raise koji.GenericError(f"No such rpm: {rpminfo!r}")
        return [] if multi else None
    info = rpm_info(ctx.db, found)
    return [info] if multi else info


@api.method("listRPMs")
def list_rpms(
    ctx: CallContext,
    /,
    buildID: Any = None,
    buildrootID: Any = None,
    imageID: Any = None,
    componentBuildrootID: Any = None,
    hostID: Any = None,
    arches: Any = None,
    queryOpts: Any = None,
    draft: bool | None = None,
) -> list[dict[str, Any]]:
    """Rpms of a build, built in a buildroot, or (``componentBuildrootID``) listed in one."""
    rows = []
    listing: dict[int, bool] = {}
    if componentBuildrootID is not None:
        br = ctx.db.buildroots.get(as_int(componentBuildrootID, "componentBuildrootID"))
        listing = dict(br.listing) if br else {}
    wanted_arches = [arches] if isinstance(arches, str) else arches
    for rpm in sorted(ctx.db.rpms.values(), key=lambda r: r.id):
        if buildID is not None and rpm.build_id != buildID:
            continue
        if buildrootID is not None and rpm.buildroot_id != buildrootID:
            continue
        if componentBuildrootID is not None and rpm.id not in listing:
            continue
        if wanted_arches and rpm.arch not in wanted_arches:
            continue
        row = rpm_info(ctx.db, rpm)
        if componentBuildrootID is not None:
            row.update(component_buildroot_id=componentBuildrootID, is_update=listing[rpm.id])
        rows.append(row)
    return rows


@api.method("getAverageBuildDuration", reads_only=True)
def get_average_build_duration(ctx: CallContext, /, package: Any,
                               age: Any = None) -> float | None:
    """As the hub: the mean seconds from creation to completion of the package's COMPLETE
    builds that a task made (imports would lower it: builds with no task are left out,
    unless their extra names a ``koji_task_id``), completed in the last ``age`` months
    with ``age``; None when there are none."""
    since = None if age is None else ctx.now() - int(age) * 30 * 86400
    durations = [b.completion_ts - b.creation_ts for b in ctx.db.builds.values()
                 if b.name == package and b.state == BUILD_COMPLETE
                 and (b.task_id is not None or "koji_task_id" in repr(b.extra or {}))
                 and b.completion_ts is not None
                 and (since is None or b.completion_ts > since)]
    return sum(durations) / len(durations) if durations else None


@api.method("getPackageID")
def get_package_id(ctx: CallContext, /, name: str, strict: bool = False) -> int | None:
    pkg_id = ctx.db.packages.get(name)
    if pkg_id is None and strict:
        raise koji.GenericError(f"No such package name: {name}")
    return pkg_id


@api.method("getChangelogEntries")
def get_changelog_entries(
    ctx: CallContext, /, buildID: Any = None, taskID: Any = None, filepath: Any = None,
    author: Any = None, before: Any = None, after: Any = None, queryOpts: Any = None,
    strict: bool = False,
) -> list[dict[str, Any]]:
    """The %changelog of the build's SRPM (or of ``filepath`` in a task's output), newest
    first, as ``{date, date_ts, author, text}``; ``queryOpts`` ``limit`` is honoured.
    (``before``/``after`` filters and other query options are not.)"""
    if buildID:
        build = find_build(ctx.db, buildID)
        if build is None:
            return missing(strict, f"No such build: {buildID}") or []
        srpm = next((r for r in ctx.db.rpms.values()
                     if r.build_id == build.id and r.arch == "src"), None)
        if srpm is None:
            return missing(strict, f"Build {buildID} doesn't have srpms") or []
        pathinfo = koji.PathInfo(topdir=str(ctx.core.topdir))
        path = Path(pathinfo.build({"name": build.name, "version": build.version,
                                    "release": build.release})) / pathinfo.rpm(
            {"name": srpm.name, "version": srpm.version, "release": srpm.release,
             "arch": "src"})
    elif taskID:
        if not filepath:
            raise koji.GenericError("filepath must be specified with taskID")
        if str(filepath).startswith("/") or "../" in str(filepath):
            raise koji.GenericError(f"Invalid filepath: {filepath}")
        path = ctx.core.workdir / koji.pathinfo.taskrelpath(as_int(taskID, "taskID")) / filepath
    else:
        raise koji.GenericError("either buildID or taskID and filepath must be specified")
    if not path.exists():
        return missing(strict, f"SRPM {path} doesn't exist") or []
    entries = [{"date": datetime.datetime.fromtimestamp(t).isoformat(" "), "date_ts": t,
                "author": name, "text": text}
               for t, name, text in read_rpm(path).changelog if not author or author == name]
    limit = (queryOpts or {}).get("limit")
    return entries[:limit] if limit else entries
