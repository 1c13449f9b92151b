"""``distRepo(tag, repo_id, keys, task_opts)`` and its per-arch
``createdistrepo(tag, repo_id, arch, keys, opts)``: a dist repo (``koji dist-repo``).

The parent makes one ``createdistrepo`` subtask per canonical arch (with ``multilib``,
the 32-bit arches first, moved into place before the 64-bit ones start, as kojid), has
the hub move each arch's upload into ``repos-dist/<tag>/<id>/<arch>/``
(``host.distRepoMove``) and marks the repo done.

A ``createdistrepo`` host needs the hub's topdir mounted (read-only is enough): it
selects the tag's rpms (:mod:`adjutant.worker.distrepo`) on it, adds with ``multilib``
the 32-bit packages a 64-bit arch carries (:mod:`adjutant.worker.steps.multilib`), links
them into its output directory and runs ``createrepo_c`` in a container where topdir is
read-only and only that output directory is writable. Deltas (``--delta``) are made when the image's
createrepo_c has DeltaRPM support, else skipped (said in ``createrepo.log``). With
``write_signed_rpms`` the hub first writes the signed copy of each rpm that has a
requested signature (``host.writeSignedRPM``; ``written_signed_rpms.log``). The
repodata, ``pkglist``, ``kojipkgs`` and ``repo_manifest`` are uploaded as kojid does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import koji
import koji.tasks

from adjutant.build.rpmbuild import BUILD_USER
from adjutant.container.spec import Mount
from adjutant.logs.fanout import TaskLog
from adjutant.worker.context import TaskContext
from adjutant.worker.distrepo import COMPAT, MULTILIB, pkglist_lines, select, signing_targets
from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.handlers.hubtask import HubTaskHandler
from adjutant.worker.provenance import write_provenance
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.steps.image import TaskImage, choose_image
from adjutant.worker.steps.multilib import add_multilib
from adjutant.worker.steps.results import take_results, upload_logs
from adjutant.worker.steps.rpmbuild import build_failure

OUTDIR = "/output"


class DistRepoTask(HubTaskHandler):
    Methods = ["distRepo"]
    _taskWeight = 0.1

    def handler(self, tag: Any, repo_id: int, keys: list[str], task_opts: dict[str, Any]) \
            -> str:
        tinfo = self.session.getTag(tag, strict=True, event=task_opts["event"])
        arches = list(task_opts.get("arch") or (tinfo["arches"] or "").split())
        if not arches:
            raise koji.GenericError("No arches specified nor for the tag!")
        opts = dict(task_opts, arch=arches)
        canon = sorted({koji.canonArch(a) for a in arches})
        first = [a for a in canon if a not in MULTILIB]
        subtasks: dict[str, int] = {}

        def spawn(arch: str) -> None:
            subtasks[arch] = self.session.host.subtask(
                method="createdistrepo", arglist=[tag, repo_id, arch, keys, opts],
                label=arch, parent=self.id, arch="noarch")

        for arch in first:
            spawn(arch)
        moved = set()
        if subtasks and opts.get("multilib"):
            # The 64-bit arches read the 32-bit repos' kojipkgs for their multilib part.
            self.wait(list(subtasks.values()), all=True, failany=True)
            for arch in first:
                self._move(repo_id, subtasks[arch], arch)
                moved.add(arch)
        for arch in canon:
            if arch not in subtasks:
                spawn(arch)
        self.wait(list(subtasks.values()), all=True, failany=True)
        for arch, task_id in subtasks.items():
            if arch not in moved:
                self._move(repo_id, task_id, arch)
        self.session.host.repoDone(repo_id, {})
        return f"Dist repository #{repo_id} successfully generated"

    def _move(self, repo_id: int, task_id: int, arch: str) -> None:
        self.session.host.distRepoMove(repo_id, koji.pathinfo.taskrelpath(task_id), arch)


class CreateDistRepoTask(ContainerTaskHandler):
    Methods = ["createdistrepo"]
    _taskWeight = 1.5

    def handler(self, tag: Any, repo_id: int, arch: str, keys: list[str],
                opts: dict[str, Any]) -> None:
        rinfo = self.session.repoInfo(repo_id, strict=True)
        if rinfo["state"] != koji.REPO_INIT:
            raise koji.GenericError(f"Repo {repo_id} not in INIT state (got "
                                    f"{koji.REPO_STATES[rinfo['state']]})")
        topdir = Path(self.options.topdir)
        if not (topdir / "packages").is_dir():
            raise koji.tasks.RefuseTask(f"no access to {topdir / 'packages'}: the hub's topdir "
                                        "is not mounted on this host")
        paths = koji.PathInfo(topdir=str(topdir))
        hubrepo = Path(paths.distrepo(repo_id, rinfo["tag_name"]))
        ctx = self.context(arch, tag=rinfo["tag_name"])
        selection = self._select(ctx, tag, arch, keys, opts)
        image = choose_image(ctx)
        if opts.get("multilib") and arch in MULTILIB:
            add_multilib(ctx, image, arch, selection.kojipkgs, hubrepo, str(opts["multilib"]))
        outdir = ctx.subdir("repo", build_user=True)
        meta = ctx.subdir("distrepo")
        lists = pkglist_lines(selection.kojipkgs, bool(opts.get("split_debuginfo")))
        for name, info in selection.kojipkgs.items():
            link = outdir / "Packages" / name[0].lower() / name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(info["_pkgpath"])
        for subrepo, lines in lists.items():
            for where in (outdir / subrepo, meta / subrepo):
                where.mkdir(parents=True, exist_ok=True)
                (where / "pkglist").write_text("".join(f"{line}\n" for line in lines))
        (meta / "kojipkgs").write_text(json.dumps(selection.kojipkgs, indent=1))
        for directory in (outdir, *(p for p in outdir.rglob("*") if p.is_dir()
                                    and not p.is_symlink())):
            directory.chmod(0o777)

        oldrepo = self.session.getRepo(tag, dist=True, state=koji.REPO_READY)
        oldpkgs = self._delta_dirs(opts)
        with ctx.logs.open("createrepo.log") as log:
            write_provenance(log, image.choice, image.image_id, ctx.runtime.name)
            if oldpkgs and not self._has_deltas(ctx, image, log):
                log.line("deltas skipped: the image's createrepo_c has no DeltaRPM support "
                         f"(delta repos asked: {', '.join(oldpkgs)})")
                oldpkgs = []
        for subrepo in lists:
            old = None
            if oldrepo and self.options.createrepo_update:
                old = Path(paths.distrepo(oldrepo["id"], oldrepo["tag_name"])) / arch / \
                    subrepo / "repodata"
            self._createrepo(ctx, image, outdir, subrepo, hubrepo / "groups" / "comps.xml",
                             old, oldpkgs, opts)
        self._upload(ctx, outdir, meta, list(lists), not selection.kojipkgs)

    def _select(self, ctx: TaskContext, tag: Any, arch: str, keys: list[str],
                opts: dict[str, Any]) -> Any:
        rows: list[dict[str, Any]] = []
        builds: list[dict[str, Any]] = []
        for compat in COMPAT[arch]:
            found, found_builds = self.session.listTaggedRPMS(
                tag, event=opts["event"], arch=compat, latest=opts.get("latest", False),
                inherit=opts.get("inherit", False), rpmsigs=True)
            rows += found
            builds += found_builds
        if opts.get("write_signed_rpms"):
            self._write_signed(ctx, rows, keys)
        skip = bool(opts.get("skip_missing_signatures"))
        selection = select(rows, builds, keys, self.options.topdir, skip)
        if selection.missing_files:
            with ctx.logs.open("missing_files.log") as log:
                log.line("Some rpm files were missing.\nMost likely, you want to create "
                         "these signed copies.\n\nMissing files:")
                for path in sorted(selection.missing_files):
                    log.line(path)
            raise koji.GenericError("Packages missing from the filesystem. See "
                                    "missing_files.log.")
        if selection.unsigned:
            with ctx.logs.open("missing_signatures.log") as log:
                log.line("Some rpms were missing requested signatures.")
                if skip:
                    log.line("The skip_missing_signatures option was specified, so these "
                             "files were excluded.")
                log.line(f"Requested keys: {keys!r}\n")
                for nvra in sorted(selection.unsigned):
                    log.line(nvra)
            if not skip and not opts.get("allow_missing_signatures"):
                raise koji.GenericError("Unsigned packages found. See missing_signatures.log")
        return selection

    def _write_signed(self, ctx: TaskContext, rows: list[dict[str, Any]],
                      keys: list[str]) -> None:
        """``--write-signed-rpms``: the hub writes the signed copy of each rpm that has a
        requested signature (one multicall, as kojid); each outcome goes to
        ``written_signed_rpms.log``. A failure is logged, and the copy it lacks is then
        reported as missing by the selection, as in kojid."""
        targets = signing_targets(rows, keys)
        if not targets:
            return
        with self.session.multicall(batch=1000) as calls:
            results = [calls.host.writeSignedRPM(rpm_id, key) for rpm_id, key in targets]
        with ctx.logs.open("written_signed_rpms.log") as log:
            for (rpm_id, key), call in zip(targets, results, strict=True):
                try:
                    call.result  # noqa: B018 - raises the call's fault
                except koji.GenericError as exc:
                    log.line(f"FAILED: Signed RPM {rpm_id} is not written with {key} key, "
                             f"error: {exc}")
                else:
                    log.line(f"Signed RPM {rpm_id} is written with {key} key.")

    def _delta_dirs(self, opts: dict[str, Any]) -> list[str]:
        """The dist repos to make deltas against (kojid's checks)."""
        dirs = []
        for delta_id in opts.get("delta") or ():
            old = self.session.repoInfo(delta_id, strict=True)
            if not old["dist"]:
                raise koji.GenericError("Base repo for deltas must also be a dist repo")
            path = koji.PathInfo(topdir=self.options.topdir).distrepo(delta_id,
                                                                      old["tag_name"])
            if not Path(path).exists():
                raise koji.GenericError(f"Base drpm repo missing: {path}")
            dirs.append(path)
        return dirs

    def _has_deltas(self, ctx: TaskContext, image: TaskImage, log: TaskLog) -> bool:
        """Whether the image's createrepo_c can make deltas (its DeltaRPM feature)."""
        output = bytearray()
        spec = container_spec(ctx, image.image_id, ["createrepo_c", "--version"],
                              user=BUILD_USER, timeout=60.0)
        result = run_in_container(ctx, spec, lambda _s, data: output.extend(data))
        log.line(f"$ createrepo_c --version\n{output.decode(errors='replace').strip()}")
        return result.ok and b"DeltaRPM" in bytes(output)

    def _createrepo(self, ctx: TaskContext, image: TaskImage, outdir: Path, subrepo: str,
                    comps: Path, oldrepodata: Path | None, oldpkgs: list[str],
                    opts: dict[str, Any]) -> None:
        repodir = f"{OUTDIR}/{subrepo}".rstrip("/")
        command = ["createrepo_c", "--error-exit-val", "-vd", "-i", f"{repodir}/pkglist"]
        if comps.is_file():
            command += ["-g", str(comps)]
        if oldrepodata is not None and oldrepodata.is_dir():
            seeded = outdir / subrepo / "repodata"
            shutil.copytree(oldrepodata, seeded)
            (seeded / "pkgorigins.gz").unlink(missing_ok=True)
            for path in (seeded, *seeded.iterdir()):
                path.chmod(0o777 if path.is_dir() else 0o666)
            command.append("--update")
            skip_stat = opts.get("createrepo_skip_stat")
            if skip_stat if skip_stat is not None else self.options.distrepo_skip_stat:
                command.append("--skip-stat")
        for old in oldpkgs:
            command += ["--deltas", "--oldpackagedirs", old]
        if opts.get("zck"):
            command.append("--zck")
        command.append(repodir)
        topdir = Path(self.options.topdir)
        spec = container_spec(
            ctx, image.image_id, command, user=BUILD_USER,
            mounts=(Mount(topdir, str(topdir)), Mount(outdir, OUTDIR, writable=True)),
            timeout=float(self.options.rpmbuild_timeout))
        logname = f"createrepo_{subrepo}.log" if subrepo else "createrepo.log"
        with ctx.logs.open(logname) as log:
            log.line("$ " + " ".join(command))
            result = run_in_container(ctx, spec, log.write_output)
        if not result.ok:
            raise build_failure(ctx, f"createrepo_c for the dist repo ({ctx.arch}"
                                f"{'/' + subrepo if subrepo else ''})", result, logname)

    def _upload(self, ctx: TaskContext, outdir: Path, meta: Path, subrepos: list[str],
                empty: bool) -> None:
        """kojid's upload: everything of the repo but the package links (the repodata
        and deltas taken out of the container's directory without following links, the
        lists from the worker's own copies), then ``repo_manifest`` naming them."""
        files: list[tuple[str, Path]] = []
        with ctx.logs.open("createrepo.log") as log:
            for subrepo in subrepos:
                prefix = f"{subrepo}/" if subrepo else ""
                for sub in ("repodata", "drpms"):
                    for path in take_results(ctx, outdir, f"{prefix}{sub}", "", log):
                        files.append((f"{prefix}{sub}/{path.name}", path))
                files.append((f"{prefix}pkglist", meta / prefix / "pkglist"))
        if empty:
            marker = ctx.workdir / "results" / "repodata" / "EMPTY_REPO"
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("This repo is empty because its tag has no content for this "
                              "arch\n")
            files.append(("repodata/EMPTY_REPO", marker))
        files.append(("kojipkgs", meta / "kojipkgs"))
        for relpath, path in files:
            where = str(Path(ctx.uploadpath, relpath).parent)
            ctx.session.uploadWrapper(str(path), where, path.name)
            ctx.results.append(str(path))
        manifest = meta / "repo_manifest"
        manifest.write_text(json.dumps([relpath for relpath, _ in files], indent=4))
        ctx.session.uploadWrapper(str(manifest), ctx.uploadpath, manifest.name)
        upload_logs(ctx)
