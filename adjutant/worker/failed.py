"""Failed buildroots kept for inspection, as kojid keeps a failed mock chroot.

kojid.conf's ``failed_buildroot_lifetime`` (seconds; 0 keeps nothing): when a build fails
in its buildroot, the buildroot image keeps a name of its own
(``localhost/adjutant-failed-buildroot:<host>-<task>``) and the task's build directory is
moved to ``<workdir>/failed/<task>/build``, with ``info.json`` saying what was kept and
until when. The worker's main loop removes both once the lifetime has passed.

Nothing is kept when the build filled the disk or ``workdir`` is below ``minspace``:
keeping would hold the very space the host needs back to take tasks again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from adjutant.build.rpmbuild import ran_out_of_space
from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime
from adjutant.worker.diskspace import short_of_space

log = logging.getLogger(__name__)

FAILED_REPO = "localhost/adjutant-failed-buildroot"


@dataclass(frozen=True)
class KeptBuildroot:
    """What was kept of one failed task: its image name, build dir and expiry (epoch)."""

    task_id: int
    image: str
    builddir: str
    expires: float


def failed_root(workdir: str | Path) -> Path:
    return Path(workdir) / "failed"


def reason_not_to_keep(workdir: str | Path, minspace_mb: int, build_log: Path) -> str | None:
    """Why a failed build must not be kept although ``failed_buildroot_lifetime`` asks:
    its ``build_log`` shows it ran out of space, or ``workdir`` is short of space (below
    ``minspace_mb``, kojid's ``minspace``). None when it may be kept."""
    try:
        full = ran_out_of_space(build_log.read_text(errors="replace"))
    except OSError:
        full = False
    if full:
        return "the build filled its disk (no space left on device)"
    return short_of_space(workdir, minspace_mb)


def keep(runtime: ContainerRuntime, workdir: str | Path, host: str, task_id: int,
         image_id: str, builddir: Path, lifetime: int) -> KeptBuildroot | None:
    """Keep the failed task's buildroot image and build dir for ``lifetime`` seconds.

    Returns what was kept, or None when ``lifetime`` is 0 or nothing could be kept (the
    reason is logged: keeping is a convenience, it never changes the task's outcome).
    """
    if lifetime <= 0:
        return None
    dest = failed_root(workdir) / str(task_id)
    ref = f"{FAILED_REPO}:{host}-{task_id}"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        runtime.tag_image(image_id, ref)
        if builddir.is_dir() and not builddir.is_symlink():
            shutil.rmtree(dest / "build", ignore_errors=True)
            os.rename(builddir, dest / "build")
    except (OSError, ContainerError) as exc:
        log.warning("could not keep the failed buildroot of task %s: %s", task_id, exc)
        return None
    kept = KeptBuildroot(task_id, ref, str(dest / "build"), time.time() + lifetime)
    (dest / "info.json").write_text(json.dumps(asdict(kept), indent=1))
    return kept


def kept_buildroots(workdir: str | Path) -> list[KeptBuildroot]:
    """The failed buildroots kept under ``workdir`` (unreadable records are skipped)."""
    found = []
    root = failed_root(workdir)
    if not root.is_dir():
        return []
    for info in sorted(root.glob("*/info.json")):
        try:
            found.append(KeptBuildroot(**json.loads(info.read_text())))
        except (OSError, ValueError, TypeError):
            log.warning("unreadable failed-buildroot record %s", info)
    return found


def expire(runtime: ContainerRuntime, workdir: str | Path, now: float | None = None) -> int:
    """Remove the kept buildroots whose lifetime has passed; how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    for kept in kept_buildroots(workdir):
        if kept.expires > now:
            continue
        try:
            runtime.remove_image(kept.image, force=False)
        except ContainerError as exc:
            log.warning("could not remove %s: %s", kept.image, exc)
            continue
        shutil.rmtree(failed_root(workdir) / str(kept.task_id), ignore_errors=True)
        log.info("removed the failed buildroot of task %s (lifetime over)", kept.task_id)
        removed += 1
    return removed
