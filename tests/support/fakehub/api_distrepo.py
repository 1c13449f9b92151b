"""Dist repos (``koji dist-repo``): ``distRepo``, ``listTaggedRPMS`` and the distRepo
task's ``host.distRepoMove`` (``host.repoDone`` finishes a dist repo too, moving nothing).

Rules, as the real hub:

- ``distRepo(tag, keys, **task_opts)``: the ``dist-repo`` permission or admin, else the
  ``dist_repo`` policy decides (denial → 1004); ``keys`` a list and ``task_opts`` with an
  ``arch`` list (1000 otherwise, as the hub's ``convert_value``/``KeyError``); the tag
  must exist (1000). A dist repo in INIT is made at ``repos-dist/<tag>/<id>/`` with one
  directory per canonical arch, ``groups/comps.xml`` copied from ``work/<comps>`` when
  ``comps`` is given (missing → 1000) and ``repo.json``; then a ``distRepo`` task
  ``[tag, repo_id, keys, task_opts + event]`` in channel ``createrepo``, priority 15.
- ``host.distRepoMove(repo_id, uploadpath, arch)``: the locked host; the repo's arch dir
  must exist and the repo be INIT; ``work/<uploadpath>/repo_manifest`` and ``kojipkgs``
  must exist, every file the manifest names too; each kojipkgs entry must match the rpm
  in the database (name, version, release, arch, epoch, size, payloadhash, build_id) →
  all 1000, checked before anything moves. The files are moved into the arch dir and
  each rpm is hard-linked into ``Packages/<first letter>/``: the signed copy
  (``data/signed/<sigkey>/<arch>/``) when the entry has a ``sigkey``, else the unsigned
  one; a file already there → 1000.
- ``host.writeSignedRPM(an_rpm, sigkey, force=False)`` (kojid's ``--write-signed-rpms``):
  the rpm must exist (1000), be internal (1000), its file be a regular file (1000) and the
  hub know its signature by ``sigkey`` (``rpmsigs``, else "No cached signature" 1000).
  A signed copy already there is left (unless ``force``); otherwise the stored signature
  header (``data/sigcache/<key>/<arch>/<file>.sig``) is spliced onto the rpm with koji's
  ``splice_rpm_sighdr`` and written at the signed path, as the hub does. Returns None.
"""


import builtins
import json
import os
import shutil
from pathlib import Path
from typing import Any

import koji

from .api_buildroots import find_rpm
from .api_repos import repo_dir
from .context import CallContext
from .registry import MethodTable
from .rules import as_int, assert_policy, get_by_id, get_tag, tagged_builds
from .state import REPO_INIT, Repo
from .taskops import make_task
from .views import build_info

api = MethodTable()

#: kojipkgs fields distRepoMove compares with the database.
_CHECKED = ("name", "version", "release", "arch", "epoch", "size", "payloadhash", "build_id")


@api.method("distRepo")
def dist_repo(ctx: CallContext, /, tag: Any, keys: Any, **task_opts: Any) -> int:
    """A dist repo in INIT and its ``distRepo`` task → the task id (see module doc)."""
    ctx.require_login()
    if not (ctx.has_perm("dist-repo") or ctx.has_perm("admin")):
        assert_policy(ctx, "dist_repo", {"tag": tag})
    if not isinstance(keys, list):
        raise koji.ParameterError(f"Invalid type for value '{keys}': {type(keys)}")
    if not isinstance(task_opts.get("arch"), list):
        raise koji.GenericError("task_opts must give 'arch', a list of arches")
    db = ctx.db
    taginfo = get_tag(db, tag)
    now = ctx.now()
    event = task_opts.get("event")
    event_id = db.new_event(now) if not event else as_int(event, "event")
    repo = Repo(id=db.next_id("repos"), tag_id=taginfo.id, state=REPO_INIT,
                create_event=event_id, creation_ts=now, dist=True)
    db.repos[repo.id] = repo
    db.record("repo", repo.id, None, "INIT", now)
    rdir = repo_dir(ctx.core.topdir, db, repo)
    comps = task_opts.get("comps")
    if comps:
        source = ctx.core.workdir / str(comps)
        if not source.is_file():
            raise koji.GenericError(f"No such file: {source}")
    for arch in {koji.canonArch(a) for a in task_opts["arch"]}:
        (rdir / arch).mkdir(parents=True, exist_ok=True)
    if comps:
        (rdir / "groups").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ctx.core.workdir / str(comps), rdir / "groups" / "comps.xml")
    (rdir / "repo.json").write_text(json.dumps({
        "id": repo.id, "tag": taginfo.name, "tag_id": taginfo.id, "keys": keys,
        "volume": task_opts.get("volume"), "task_opts": task_opts}, indent=2))
    opts = dict(task_opts, event=event_id)
    chan = db.channel_by_name("createrepo")
    assert chan is not None and ctx.user_id is not None
    task = make_task(db, now, "distRepo", [tag, repo.id, keys, opts], owner=ctx.user_id,
                     channel_id=chan.id, priority=15)
    repo.task_id = task.id
    return task.id


@api.method("listTaggedRPMS")
def list_tagged_rpms(
    ctx: CallContext, /, tag: Any, event: Any = None, inherit: bool = False,
    latest: bool = False, package: Any = None, arch: Any = None, rpmsigs: bool = False,
    owner: Any = None, type: Any = None, strict: bool = True, extra: bool = True,
    draft: bool | None = None,
) -> list[Any]:
    """``[rpms, builds]`` of the tag's (latest, inherited) builds; with ``rpmsigs`` one
    row per rpm and signature key (``sigkey``). ``arch``: one arch or a list."""
    db = ctx.db
    taginfo = get_tag(db, tag)
    if arch is not None and not isinstance(arch, str | list | tuple):
        raise koji.GenericError(f"Invalid type for arch option: {builtins.type(arch)}")
    arches = None if not arch else [arch] if isinstance(arch, str) else list(arch)
    builds, rpms = [], []
    for build, source in tagged_builds(db, taginfo, bool(inherit), bool(latest)):
        if package is not None and build.name != package:
            continue
        if draft is not None and build.draft != bool(draft):
            continue
        row = build_info(db, build)
        row.update(tag_id=source.id, tag_name=source.name)
        builds.append(row)
        for rpm in sorted(db.rpms.values(), key=lambda r: r.id):
            if rpm.build_id != build.id or (arches and rpm.arch not in arches):
                continue
            info = {"name": rpm.name, "version": rpm.version, "release": rpm.release,
                    "arch": rpm.arch, "id": rpm.id, "epoch": rpm.epoch, "draft": rpm.draft,
                    "payloadhash": rpm.payloadhash, "size": rpm.size,
                    "buildtime": rpm.buildtime, "buildroot_id": rpm.buildroot_id,
                    "build_id": rpm.build_id, "metadata_only": False}
            if extra:
                info["extra"] = None
            for sigkey in rpm.sigkeys if rpmsigs else [None]:
                rpms.append(dict(info, sigkey=sigkey) if rpmsigs else info)
    return [rpms, builds]


@api.method("host.distRepoMove")
def dist_repo_move(ctx: CallContext, /, repo_id: Any, uploadpath: Any, arch: Any) -> None:
    """One arch of a dist repo into place (see module doc)."""
    ctx.require_host()
    db = ctx.db
    repo = get_by_id(db.repos, repo_id, "repo_id", "No such repo: {id}")
    archdir = repo_dir(ctx.core.topdir, db, repo) / koji.canonArch(str(arch))
    if not archdir.is_dir():
        raise koji.GenericError(f"Repo arch directory missing: {archdir}")
    if repo.state != REPO_INIT:
        raise koji.GenericError(f"Repo is in state: {koji.REPO_STATES[repo.state]}")
    updir = ctx.core.workdir / str(uploadpath)
    if not (updir / "repo_manifest").is_file():
        raise koji.GenericError("Missing repo manifest")
    if not (updir / "kojipkgs").is_file():
        raise koji.GenericError("Missing kojipkgs file")
    files = json.loads((updir / "repo_manifest").read_text())
    kojipkgs = json.loads((updir / "kojipkgs").read_text())
    moves = []
    for relpath in files:
        src = updir / relpath
        if not src.exists():
            raise koji.GenericError(f"uploaded file missing: {src}")
        moves.append((src, archdir / relpath))
    paths = koji.PathInfo(topdir=str(ctx.core.topdir))
    links: list[tuple[Path, Path]] = []
    for bnp, entry in kojipkgs.items():
        rpm = get_by_id(db.rpms, entry.get("id"), "rpm_id", "No such rpm: {id}")
        known = {"name": rpm.name, "version": rpm.version, "release": rpm.release,
                 "arch": rpm.arch, "epoch": rpm.epoch, "size": rpm.size,
                 "payloadhash": rpm.payloadhash, "build_id": rpm.build_id}
        for key in _CHECKED:
            if key not in entry or entry[key] != known[key]:
                raise koji.GenericError(f"kojipkgs entry does not match db: file {bnp}, "
                                        f"key {key}")
        sigkey = entry.get("sigkey")
        rel = paths.signed(entry, sigkey) if sigkey else paths.rpm(entry)
        build = db.builds[rpm.build_id]
        builddir = paths.build({"name": build.name, "version": build.version,
                                "release": build.release})
        links.append((Path(builddir) / rel, archdir / "Packages" / bnp[0].lower() / bnp))
    for src, dst in moves:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dst))
    for src, dst in links:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists():
            raise koji.GenericError(f"File already in repo: {dst}")
        os.link(src, dst)


@api.method("host.writeSignedRPM")
def write_signed_rpm(ctx: CallContext, /, an_rpm: Any, sigkey: Any,
                     force: bool = False) -> None:
    """Write an rpm's signed copy from its stored signature header (see module doc)."""
    ctx.require_host()
    db = ctx.db
    sigkey = str(sigkey).lower()
    rpm = find_rpm(db, an_rpm)
    if rpm is None:
        raise koji.GenericError(f"No such rpm: {an_rpm}")
    if rpm.external_repo_id is not None or rpm.build_id is None:
        raise koji.GenericError(f"Not an internal rpm: {an_rpm}")
    build = db.builds[rpm.build_id]
    info = {"name": rpm.name, "version": rpm.version, "release": rpm.release,
            "arch": rpm.arch}
    paths = koji.PathInfo(topdir=str(ctx.core.topdir))
    builddir = Path(paths.build({"name": build.name, "version": build.version,
                                 "release": build.release}))
    rpm_path = builddir / paths.rpm(info)
    nvra = f"{rpm.name}-{rpm.version}-{rpm.release}.{rpm.arch}"
    if not rpm_path.exists():
        raise koji.GenericError(f"No such path: {rpm_path}")
    if not rpm_path.is_file() or rpm_path.is_symlink():
        raise koji.GenericError(f"Not a regular file: {rpm_path}")
    if sigkey not in rpm.sigkeys:
        raise koji.GenericError(f"No cached signature for package {nvra}, key {sigkey}")
    signed = builddir / paths.signed(info, sigkey)
    if signed.exists():
        if not force:
            return
        signed.unlink()
    sighdr = (builddir / paths.sighdr(info, sigkey)).read_bytes()
    signed.parent.mkdir(parents=True, exist_ok=True)
    koji.splice_rpm_sighdr(sighdr, str(rpm_path), dst=str(signed))
