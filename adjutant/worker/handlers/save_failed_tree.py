"""``saveFailedTree(buildrootID, full=False)``: upload a failed build's buildroot, as
kojid's save_failed_tree plugin does, from what ``failed_buildroot_lifetime`` kept.

The kept build dir was written by the failed (untrusted) build: it is archived inside a
container of the kept buildroot image, where its links can only reach the container's own
files, and the archive is taken back through the untrusted-directory door. ``full``
archives the whole buildroot filesystem (the image, with the build dir at /builddir)
instead of the build dir alone. kojid's plugin config (``[filters] paths``,
``[general] volume``) applies: its path patterns are left out of the archive.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import koji

from adjutant.build.rpmbuild import BUILDDIR
from adjutant.container.spec import Mount
from adjutant.worker import failed
from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.steps.results import take_results, upload, upload_logs
from adjutant.worker.steps.rpmbuild import build_failure

CONFIG_FILE = Path("/etc/kojid/plugins/save_failed_tree.conf")
OUTDIR = "/adjutant-out"
#: What a full archive leaves out: kernel file systems and the archive's own output.
_NOT_IN_FULL = ("./proc", "./sys", "./dev", f".{OUTDIR}")


def read_filters(path: Path = CONFIG_FILE) -> tuple[list[str], str | None]:
    """kojid's plugin config: ``[filters] paths`` (patterns left out) and ``[general]
    volume`` (where the upload goes); none of it when the file is absent."""
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path):
        return [], None
    paths = parser.get("filters", "paths", fallback="").split()
    volume = parser.get("general", "volume", fallback="").strip() or None
    return paths, volume


class SaveFailedTreeTask(ContainerTaskHandler):
    Methods = ["saveFailedTree"]
    _taskWeight = 3.0

    def handler(self, buildrootID: int, full: bool = False, **_opts: Any) -> None:
        broot = self.session.getBuildroot(buildrootID)
        if broot is None:
            raise koji.GenericError(f"Nonexistent buildroot: {buildrootID}")
        if broot["host_id"] != self.session.host.getHost()["id"]:
            raise koji.GenericError("Task is run on wrong builder")
        kept = self.kept_for(broot["task_id"])
        ctx = self.context(broot.get("arch") or "noarch")
        image_id = ctx.runtime.image_id(kept.image)
        if image_id is None:
            raise koji.GenericError(f"the kept buildroot image {kept.image} of task "
                                    f"{kept.task_id} is gone from the engine")
        filters, volume = read_filters()
        archive = f"broot-{buildrootID}.tar.gz"
        outdir = ctx.subdir("archive", build_user=False)
        members = ["."] if full else [BUILDDIR.lstrip("/")]
        command = ["tar", "-czf", f"{OUTDIR}/{archive}", "-C", "/",
                   *(f"--exclude={p}" for p in (*filters, *(_NOT_IN_FULL if full else ()))),
                   *members]
        spec = container_spec(ctx, image_id, command, user="0:0",
                              capabilities=("DAC_READ_SEARCH",),
                              timeout=float(self.options.rpmbuild_timeout),
                              mounts=(Mount(Path(kept.builddir), BUILDDIR),
                                      Mount(outdir, OUTDIR, writable=True)))
        with ctx.logs.open("save_failed_tree.log") as log:
            log.line(f"archiving {'the whole buildroot' if full else BUILDDIR} of task "
                     f"{kept.task_id} (kept as {kept.image})")
            result = run_in_container(ctx, spec, log.write_output)
            if not result.ok:
                raise build_failure(ctx, f"archiving buildroot {buildrootID}", result,
                                    "save_failed_tree.log")
            taken = take_results(ctx, outdir, "", ".tar.gz", log)
        if volume:
            for path in taken:
                self.session.uploadWrapper(str(path), ctx.uploadpath, path.name,
                                           volume=volume)
            ctx.results.extend(str(p) for p in taken)
        else:
            upload(ctx, taken)
        upload_logs(ctx)

    def kept_for(self, task_id: int) -> failed.KeptBuildroot:
        """What ``failed_buildroot_lifetime`` kept of ``task_id`` on this host."""
        for kept in failed.kept_buildroots(self.options.workdir):
            if kept.task_id == task_id:
                return kept
        raise koji.GenericError(
            f"the buildroot of task {task_id} is not kept on this host: "
            f"failed_buildroot_lifetime is {self.options.failed_buildroot_lifetime} s, "
            "and it may have expired or never been kept (a full disk keeps nothing)")

