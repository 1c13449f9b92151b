"""``createrepo(repo_id, arch, oldrepo)``: repodata for one arch of a tag's new repo.

Needs the hub's topdir mounted on this host (read-only is enough): the hub writes the
package list there and its entries point into ``packages/`` through the ``toplink``
symlink. A host without it refuses the task so that another host takes it.

When the tag has external repos, the tag's own repodata is merged with theirs by
``mergerepo_c`` (kojid's merge modes ``koji``, ``simple``, ``bare``), which also writes
the ``pkgorigins`` that buildroot listings use to name external packages.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import koji
import koji.tasks

from adjutant.build.rpmbuild import BUILD_USER
from adjutant.container.spec import Mount
from adjutant.worker.context import TaskContext
from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.provenance import write_provenance
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.steps.image import TaskImage, choose_image
from adjutant.worker.steps.results import take_results, upload, upload_logs
from adjutant.worker.steps.rpmbuild import build_failure

OUTDIR = "/output"
#: mergerepo_c's options for each of kojid's external repo merge modes.
MERGE_MODES = {"koji": ("--koji",), "simple": ("--koji", "--simple"),
               "bare": ("--pkgorigins", "--all")}
#: Runs mergerepo_c with its arguments unchanged, adding --arch-expand (multilib arches)
#: where the image's mergerepo_c has it (0.15.11 and later), as kojid does.
_MERGE_WRAPPER = (
    'v=$(mergerepo_c --version | sed -n "s/^Version: *\\([0-9.]*\\).*/\\1/p"); '
    'if [ "$(printf "%s\\n" 0.15.11 "$v" | sort -V | head -n 1)" = 0.15.11 ]; '
    'then set -- "$@" --arch-expand; fi; exec mergerepo_c "$@"'
)


def premerge_dir(repo_id: int) -> str:
    """Where the tag's own repodata sits during the merge. pkgorigins names it as the
    origin of every internal package, and kojid recognises internal packages by the
    ``/repo_<id>_premerge/`` ending, so builders of both kinds can use the repo."""
    return f"/premerge/repo_{repo_id}_premerge"


class CreaterepoTask(ContainerTaskHandler):
    Methods = ["createrepo"]
    _taskWeight = 1.5

    def handler(self, repo_id: int, arch: str, oldrepo: dict[str, Any] | None) \
            -> list[Any]:
        rinfo = self.session.repoInfo(repo_id, strict=True)
        if rinfo["state"] != koji.REPO_INIT:
            raise koji.GenericError(f"repo {repo_id} is not in INIT state "
                                    f"(state {koji.REPO_STATES[rinfo['state']]})")
        topdir = Path(self.options.topdir)
        pathinfo = koji.PathInfo(str(topdir))
        toprepodir = Path(pathinfo.repo(repo_id, rinfo["tag_name"]))
        repodir = toprepodir / arch
        if not repodir.is_dir():
            if not (topdir / "repos").is_dir():
                raise koji.tasks.RefuseTask(f"no access to {topdir / 'repos'}: the hub's topdir "
                                            "is not mounted on this host")
            raise koji.GenericError(f"repo directory missing: {repodir}")
        # As kojid: any external repo means a merge (pkgorigins then always exists, which
        # builders expect), even when none of them serves this arch.
        external = self.session.getExternalRepoList(rinfo["tag_id"],
                                                    event=rinfo["create_event"])
        merge_args = self._merge_mode(external) if external else ()
        ctx = self.context(arch, tag=rinfo["tag_name"])
        outdir = ctx.subdir("repo", build_user=True)
        pkglist = repodir / "pkglist"
        has_packages = pkglist.exists() and pkglist.stat().st_size > 0
        groupdata = toprepodir / "groups" / "comps.xml"
        command = ["createrepo_c", "--error-exit-val", "-vd", "-o", OUTDIR]
        if has_packages:
            command += ["-i", str(pkglist)]
        if groupdata.is_file():
            command += ["-g", str(groupdata)]
        if has_packages and oldrepo and self.options.createrepo_update:
            command += self._reuse_old_repodata(oldrepo, arch, outdir)
        command.append(str(repodir) if has_packages else OUTDIR)

        image = choose_image(ctx)
        spec = container_spec(
            ctx, image.ref, command, user=BUILD_USER,
            mounts=(Mount(topdir, str(topdir)), Mount(outdir, OUTDIR, writable=True)),
            timeout=float(self.options.rpmbuild_timeout),
        )
        with ctx.logs.open("createrepo.log") as repo_log:
            write_provenance(repo_log, image.choice, image.image_id, ctx.runtime.name)
            result = run_in_container(ctx, spec, repo_log.write_output)
        if not result.ok:
            raise build_failure(ctx, f"createrepo for repo {repo_id} ({arch})", result,
                                "createrepo.log")
        if external:
            outdir = self._merge(ctx, repo_id, external, merge_args, repodir, groupdata,
                                 outdir, image)
        with ctx.logs.open("createrepo.log") as repo_log:
            taken = take_results(ctx, outdir, "repodata", "", repo_log)
        datadir = ctx.workdir / "results" / "repodata"
        if not taken:
            raise koji.GenericError(f"createrepo for repo {repo_id} ({arch}) left no repodata")
        if not has_packages and not external:
            (datadir / "EMPTY_REPO").write_text(
                "This repo is empty because its tag has no content for this arch\n")
        files = sorted(os.listdir(datadir))
        upload(ctx, [datadir / name for name in files])
        upload_logs(ctx)
        return [ctx.uploadpath, files]

    @staticmethod
    def _merge_mode(external: list[dict[str, Any]]) -> tuple[str, ...]:
        modes = {r.get("merge_mode") or "koji" for r in external}
        if len(modes) > 1:
            raise koji.GenericError(f"the tag's external repos mix merge modes "
                                    f"({', '.join(sorted(modes))}); give them one mode")
        mode = modes.pop()
        if mode not in MERGE_MODES:
            raise koji.GenericError(f"unknown external repo merge mode {mode!r} (known: "
                                    f"{', '.join(MERGE_MODES)})")
        return MERGE_MODES[mode]

    def _merge(self, ctx: TaskContext, repo_id: int, external: list[dict[str, Any]],
               merge_args: tuple[str, ...], repodir: Path, groupdata: Path,
               premerge: Path, image: TaskImage) -> Path:
        """Merge the tag's repodata (in ``premerge``) with those of its external repos
        that serve ``arch`` into a new output dir, which is returned. The network is on:
        external repos are usually remote."""
        arch = ctx.arch
        outdir = ctx.subdir("repo-merged", build_user=True)
        serving = [r for r in external if not r.get("arches") or arch in r["arches"].split()]
        command = [*merge_args, "-a", arch, "-o", OUTDIR]
        if "--koji" in merge_args and (repodir / "blocklist").is_file():
            command += ["-b", str(repodir / "blocklist")]
        if groupdata.is_file():
            command += ["-g", str(groupdata)]
        for url in (f"file://{premerge_dir(repo_id)}/",
                    *(r["url"].replace("$arch", arch) for r in serving)):
            command += ["-r", url]
        topdir = Path(self.options.topdir)
        spec = container_spec(
            ctx, image.ref, ["sh", "-c", _MERGE_WRAPPER, "mergerepo_c", *command],
            user=BUILD_USER, network=True, network_mode=self.options.install_network,
            mounts=(Mount(topdir, str(topdir)), Mount(premerge, premerge_dir(repo_id)),
                    Mount(outdir, OUTDIR, writable=True)),
            timeout=float(self.options.rpmbuild_timeout),
        )
        with ctx.logs.open("mergerepos.log") as merge_log:
            merge_log.line("merging with external repos: " + (", ".join(
                f"{r['external_repo_name']} ({r['url']})" for r in serving) or
                f"none serves {arch}"))
            result = run_in_container(ctx, spec, merge_log.write_output)
        if not result.ok:
            raise build_failure(ctx, "merging the external repos "
                                f"({', '.join(r['external_repo_name'] for r in external)})",
                                result, "mergerepos.log")
        return outdir

    def _reuse_old_repodata(self, oldrepo: dict[str, Any], arch: str, outdir: Path) \
            -> list[str]:
        """Seed the output with the previous repo's repodata so createrepo only updates."""
        old = self.session.repoInfo(oldrepo["id"], strict=True)
        olddata = Path(koji.PathInfo(self.options.topdir).repo(old["id"], old["tag_name"])) \
            / arch / "repodata"
        if not olddata.is_dir():
            return []
        shutil.copytree(olddata, outdir / "repodata")
        (outdir / "repodata" / "pkgorigins.gz").unlink(missing_ok=True)
        if os.geteuid() == 0:
            for path in (outdir / "repodata", *(outdir / "repodata").iterdir()):
                os.chown(path, 1000, 1000)
        return ["--update", "--skip-stat"] if self.options.createrepo_skip_stat else ["--update"]
