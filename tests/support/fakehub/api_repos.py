"""Repos (protocol §7.5-7.7): ``getRepo``, ``repoInfo``, ``repo.request``, and the newRepo
task's ``host.repoInit`` / ``host.repoDone``.

A repo lives in ``<topdir>/repos/<tag>/<repo_id>/``. ``repoInit`` writes ``repo.json``,
``groups/comps.xml`` and, per tag arch, ``pkglist``, ``rpmlist.jsonl``, ``blocklist`` and a
``toplink`` symlink to topdir, from the latest builds tagged in the tag (with inheritance).
``repoDone`` moves ``work/<uploadpath>/<file>`` into ``<arch>/repodata/`` and marks the repo
READY. No external repos are ever merged here (``getExternalRepoList`` is empty unless the
test attached one).
"""

import json
import os
import shutil
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import koji

from .context import CallContext
from .registry import MethodTable
from .rules import (
    as_int,
    get_by_id,
    get_external_repo,
    get_tag,
    inheritance,
    missing,
    tagged_builds,
)
from .state import REPO_INIT, REPO_READY, HubDB, Repo, Tag
from .views import repo_info

api = MethodTable()

DEFAULT_REPO_OPTS = {"src": False, "debuginfo": False, "separate_src": False, "maven": False}


def repo_dir(topdir: Path, db: HubDB, repo: Repo) -> Path:
    """``repos/<tag>/<id>``, or ``repos-dist/<tag>/<id>`` for a dist repo."""
    paths = koji.PathInfo(topdir=str(topdir))
    tag = db.tags[repo.tag_id].name
    return Path(paths.distrepo(repo.id, tag) if repo.dist else paths.repo(repo.id, tag))


def set_repo_state(db: HubDB, repo: Repo, state: int, now: float) -> None:
    old = koji.REPO_STATES[repo.state]
    repo.state = state
    db.record("repo", repo.id, old, koji.REPO_STATES[state], now)


def _get_repo(db: HubDB, repo_id: Any) -> Repo:
    return get_by_id(db.repos, repo_id, "repo_id", "No such repo: {id}")


@api.method("repoInfo", reads_only=True)
def repo_info_call(ctx: CallContext, /, repo_id: Any, strict: bool = False) -> Any:
    """The repo row (``state`` from REPO_STATES); unknown → None, 1000 with ``strict``."""
    repo = ctx.db.repos.get(as_int(repo_id, "repo_id"))
    if repo is None:
        return missing(strict, f"No such repo: {repo_id}")
    return repo_info(ctx.db, repo)


def latest_repo(db: HubDB, tag: Tag, state: int = REPO_READY,
                min_event: int | None = None, dist: bool = False) -> Repo | None:
    repos = [r for r in db.repos.values()
             if r.tag_id == tag.id and r.state == state and r.dist == bool(dist)
             and (min_event is None or r.create_event >= min_event)]
    return max(repos, key=lambda r: (r.create_event, r.id), default=None)


@api.method("getRepo", reads_only=True)
def get_repo(
    ctx: CallContext, /, tag: Any, state: int | None = None, event: Any = None,
    dist: bool = False, min_event: int | None = None,
) -> Any:
    """The newest repo (dist repo with ``dist``) of the tag in ``state`` (default READY),
    or None."""
    taginfo = get_tag(ctx.db, tag)
    found = latest_repo(ctx.db, taginfo, REPO_READY if state is None else state, min_event,
                        dist=dist)
    return repo_info(ctx.db, found) if found else None


@api.method("repo.get")
def repo_get(
    ctx: CallContext, /, tag: Any, min_event: Any = None, at_event: Any = None,
    opts: dict[str, Any] | None = None,
) -> Any:
    taginfo = get_tag(ctx.db, tag)
    if at_event is not None:
        found = next((r for r in ctx.db.repos.values() if r.tag_id == taginfo.id
                      and r.state == REPO_READY and r.create_event == at_event), None)
    else:
        found = latest_repo(ctx.db, taginfo, REPO_READY, _min_event(taginfo, min_event))
    return repo_info(ctx.db, found) if found else None


def _min_event(tag: Tag, min_event: Any) -> int | None:
    if min_event == "last":
        return tag.change_event
    if min_event is None:
        return None
    return as_int(min_event, "min_event")


@api.method("tagLastChangeEvent", reads_only=True)
def tag_last_change_event(ctx: CallContext, /, tag: Any, before: Any = None,
                          inherit: bool = True) -> int | None:
    """The latest event that changed the tag (or, with ``inherit``, a tag it inherits):
    its creation or a tagging. The fake keeps no history for ``before`` and says so."""
    if before is not None:
        raise koji.ParameterError("the fake hub's tagLastChangeEvent takes no 'before'")
    found = get_tag(ctx.db, tag)
    return max(t.change_event for t in (inheritance(ctx.db, found) if inherit else [found]))


@api.method("tagFirstChangeEvent", reads_only=True)
def tag_first_change_event(ctx: CallContext, /, tag: Any, after: Any = None,
                           inherit: bool = True) -> int | None:
    """The tag's creation event; with ``after``, the first event after it that changed
    the tag (or, with ``inherit``, a tag it inherits), or None."""
    found = get_tag(ctx.db, tag)
    if after is None:
        return found.create_event
    after = as_int(after, "after")
    changes = [e for t in (inheritance(ctx.db, found) if inherit else [found])
               for e in (t.create_event, *t.tag_events.values()) if e > after]
    return min(changes, default=None)


@api.method("repo.request")
def repo_request(
    ctx: CallContext, /, tag: Any, min_event: Any = None, at_event: Any = None,
    opts: dict[str, Any] | None = None, priority: int | None = None, force: bool = False,
) -> dict[str, Any]:
    """``{'repo': <current READY repo> or None, 'request': None, 'duplicate': False}``.

    The fake keeps no repo queue: nothing turns a request into a newRepo task.
    """
    ctx.require_login()
    if at_event is not None and min_event is not None:
        raise koji.ParameterError("The min_event and at_event options conflict")
    found = None if force else repo_get(ctx, tag, min_event, at_event, opts)
    return {"repo": found, "request": None, "duplicate": False}


def _comps(groups: dict[str, list[str]]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">',
             "<comps>"]
    for name in sorted(groups):
        lines += ["  <group>", f"    <id>{escape(name)}</id>", f"    <name>{escape(name)}</name>",
                  "    <description/>", "    <default>false</default>",
                  "    <uservisible>true</uservisible>", "    <packagelist>"]
        lines += [f'      <packagereq type="mandatory">{escape(p)}</packagereq>'
                  for p in groups[name]]
        lines += ["    </packagelist>", "  </group>"]
    lines.append("</comps>")
    return "\n".join(lines) + "\n"


def _write_repo_files(ctx: CallContext, tag: Tag, repo: Repo, event_id: int) -> None:
    db = ctx.db
    topdir = ctx.core.topdir
    rdir = repo_dir(topdir, db, repo)
    rdir.mkdir(parents=True)
    groups: dict[str, list[str]] = {}
    for source in inheritance(db, tag):
        for name, pkgs in source.groups.items():
            groups.setdefault(name, list(pkgs))
    (rdir / "groups").mkdir()
    (rdir / "groups" / "comps.xml").write_text(_comps(groups), encoding="utf-8")
    (rdir / "repo.json").write_text(json.dumps({
        "id": repo.id, "tag": tag.name, "tag_id": tag.id, "task_id": repo.task_id,
        "event_id": event_id, "opts": repo.opts, "custom_opts": {},
        "with_src": repo.opts["src"], "with_separate_src": repo.opts["separate_src"],
        "with_debuginfo": repo.opts["debuginfo"],
    }, indent=2), encoding="utf-8")
    arches_text = next((t.arches for t in inheritance(db, tag) if t.arches), None) or ""
    arches = sorted({koji.canonArch(a) for a in arches_text.split()} - {"src", "noarch"})
    blocked = sorted({name for source in inheritance(db, tag)
                      for name, entry in source.packages.items() if entry.blocked})
    relpath = koji.PathInfo(topdir="toplink")
    lists: dict[str, list[tuple[str, dict[str, Any]]]] = {a: [] for a in arches}
    for build, _source in tagged_builds(db, tag, inherit=True, latest=True):
        bdir = relpath.build({"name": build.name, "version": build.version,
                              "release": build.release}).lstrip("/")
        for rpm in sorted(db.rpms.values(), key=lambda r: r.id):
            if rpm.build_id != build.id or rpm.arch == "src":
                continue
            row = {"id": rpm.id, "name": rpm.name, "version": rpm.version,
                   "release": rpm.release, "epoch": rpm.epoch, "arch": rpm.arch,
                   "payloadhash": rpm.payloadhash, "size": rpm.size,
                   "buildtime": rpm.buildtime, "build_id": build.id}
            line = f"{bdir}/{relpath.rpm(row)}"
            targets = arches if rpm.arch == "noarch" else [koji.canonArch(rpm.arch)]
            for arch in targets:
                if arch in lists:
                    lists[arch].append((line, row))
    for arch in arches:
        adir = rdir / arch
        adir.mkdir()
        os.symlink(os.path.relpath(topdir, adir), adir / "toplink")
        (adir / "pkglist").write_text("".join(f"{line}\n" for line, _ in lists[arch]))
        (adir / "rpmlist.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for _, row in lists[arch]))
        (adir / "blocklist").write_text("".join(f"{name}\n" for name in blocked))


@api.method("host.repoInit")
def repo_init(
    ctx: CallContext, /, tag: Any, task_id: Any = None, event: Any = None,
    opts: dict[str, Any] | None = None,
) -> list[int]:
    """A new repo in state INIT, its directory written (see module doc) → ``[repo_id,
    event_id]``."""
    ctx.require_host()
    taginfo = get_tag(ctx.db, tag)
    now = ctx.now()
    event_id = ctx.db.new_event(now) if event is None else as_int(event, "event")
    merged = dict(DEFAULT_REPO_OPTS)
    merged.update(opts or {})
    repo = Repo(id=ctx.db.next_id("repos"), tag_id=taginfo.id, state=REPO_INIT,
                create_event=event_id, creation_ts=now,
                task_id=None if task_id is None else as_int(task_id, "task_id"), opts=merged)
    ctx.db.repos[repo.id] = repo
    ctx.db.record("repo", repo.id, None, "INIT", now)
    _write_repo_files(ctx, taginfo, repo, event_id)
    return [repo.id, event_id]


@api.method("host.repoDone")
def repo_done(
    ctx: CallContext, /, repo_id: Any, data: dict[str, Any], expire: bool = False,
    repo_json_updates: dict[str, Any] | None = None,
) -> None:
    """Move the uploaded repodata into place and mark the repo READY.

    ``data`` is ``{arch: [uploadpath, [files]]}``; a file ending in ``pkglist`` goes to the
    arch dir, others to ``<arch>/repodata/``. Repo not INIT, arch dir missing or an uploaded
    file missing → 1000 (checked before anything moves). A dist repo's files were moved by
    ``host.distRepoMove`` already: ``data`` is not looked at.
    """
    ctx.require_host()
    repo = _get_repo(ctx.db, repo_id)
    if not isinstance(data, dict):
        raise koji.ParameterError(f"Invalid type for data: {data!r}")
    if repo.state != REPO_INIT:
        raise koji.GenericError(f"Repo {repo.id} not in INIT state (got {repo.state})")
    rdir = repo_dir(ctx.core.topdir, ctx.db, repo)
    moves: list[tuple[Path, Path]] = []
    for arch, (uploadpath, files) in ({} if repo.dist else data).items():
        adir = rdir / koji.canonArch(arch)
        if not adir.is_dir():
            raise koji.GenericError(f"Repo arch directory missing: {adir}")
        for fn in files:
            src = ctx.core.workdir / uploadpath / fn
            if not src.exists():
                raise koji.GenericError(f"uploaded file missing: {src}")
            dst = adir / fn if fn.endswith("pkglist") else adir / "repodata" / fn
            moves.append((src, dst))
    if repo_json_updates:
        repo_json = json.loads((rdir / "repo.json").read_text())
        repo_json.update(repo_json_updates)
        (rdir / "repo.json").write_text(json.dumps(repo_json, indent=2))
    for src, dst in moves:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dst))
    new_state = koji.REPO_STATES["EXPIRED"] if expire else REPO_READY
    set_repo_state(ctx.db, repo, new_state, ctx.now())
    if not expire:
        latest = rdir.parent / "latest"
        if latest.is_symlink() or not latest.exists():
            if latest.is_symlink():
                latest.unlink()
            latest.symlink_to(str(repo.id))


def _set_state_call(ctx: CallContext, repo_id: Any, state: str) -> None:
    ctx.require_perm("repo")
    set_repo_state(ctx.db, _get_repo(ctx.db, repo_id), koji.REPO_STATES[state], ctx.now())


@api.method("repoExpire")
def repo_expire(ctx: CallContext, /, repo_id: Any) -> None:
    _set_state_call(ctx, repo_id, "EXPIRED")


@api.method("repoProblem")
def repo_problem(ctx: CallContext, /, repo_id: Any) -> None:
    _set_state_call(ctx, repo_id, "PROBLEM")


@api.method("repoDelete")
def repo_delete(ctx: CallContext, /, repo_id: Any) -> int:
    """Mark DELETED unless buildroots still reference it → the number of references."""
    ctx.require_perm("repo")
    repo = _get_repo(ctx.db, repo_id)
    refs = [b for b in ctx.db.buildroots.values()
            if b.repo_id == repo.id and b.state != koji.BR_STATES["EXPIRED"]]
    if not refs:
        set_repo_state(ctx.db, repo, koji.REPO_STATES["DELETED"], ctx.now())
    return len(refs)


@api.method("getExternalRepoList")
def get_external_repo_list(ctx: CallContext, /, tag_info: Any, event: Any = None) -> list[Any]:
    """External repos of the tag and its ancestors as of ``event``: the tag's own first,
    each tag's by priority, a repo attached at several levels listed once (the nearest)."""
    db = ctx.db
    tag = get_tag(db, tag_info)
    at = as_int(event, "event") if event is not None else None
    seen: set[int] = set()
    result = []
    for source in inheritance(db, tag):
        attached = [a for a in source.external_repos if at is None or a.create_event <= at]
        for link in sorted(attached, key=lambda a: a.priority):
            if link.external_repo_id in seen:
                continue
            seen.add(link.external_repo_id)
            ext = db.external_repos[link.external_repo_id]
            result.append({
                "external_repo_id": ext.id, "external_repo_name": ext.name, "url": ext.url,
                "tag_id": source.id, "tag_name": source.name, "priority": link.priority,
                "merge_mode": link.merge_mode, "arches": link.arches,
            })
    return result


def _ext_info(db: HubDB, repo_id: int) -> dict[str, Any]:
    ext = db.external_repos[repo_id]
    return {"id": ext.id, "name": ext.name, "url": ext.url}


@api.method("getExternalRepo")
def get_external_repo_call(
    ctx: CallContext, /, info: Any, strict: bool = False, event: Any = None
) -> dict[str, Any] | None:
    try:
        ext = get_external_repo(ctx.db, info)
    except koji.GenericError:
        if strict:
            raise
        return None
    return _ext_info(ctx.db, ext.id)


@api.method("listExternalRepos")
def list_external_repos(
    ctx: CallContext, /, info: Any = None, url: str | None = None, event: Any = None,
    queryOpts: Any = None,
) -> list[dict[str, Any]]:
    rows = [_ext_info(ctx.db, rid) for rid in sorted(ctx.db.external_repos)]
    if info is not None:
        rows = [r for r in rows if info in (r["id"], r["name"])]
    if url is not None:
        rows = [r for r in rows if r["url"] == url]
    return rows
