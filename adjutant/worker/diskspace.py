"""Free space where builds write, in kojid's unit (MB) and against kojid's ``minspace``.

A build that fills ``workdir`` fails with ENOSPC; these figures go into its failure message,
and decide whether a failed build dir may be kept (it must not keep the space a full disk
needs back).
"""

from __future__ import annotations

import os
from pathlib import Path

MB = 1024 * 1024


def free_mb(path: str | Path) -> int | None:
    """MB available to unprivileged writers on the file system of ``path`` (what a build,
    run as the build user, can still write; root's reserved blocks are not counted), or
    None when ``path`` cannot be examined."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize // MB


def short_of_space(path: str | Path, minspace_mb: int) -> str | None:
    """Why ``path`` is short of space, or None when it is not: fewer than ``minspace_mb``
    MB free (kojid's ``minspace``), or none at all (a full disk, whatever ``minspace``)."""
    free = free_mb(path)
    if free is None or free >= max(minspace_mb, 1):
        return None
    return f"{path} has {free} MB free, below minspace ({minspace_mb} MB)"


def full_disk_detail(workdir: str | Path, minspace_mb: int) -> str:
    """The figures a full-disk failure names: ``<workdir>: N MB free, minspace M MB``."""
    free = free_mb(workdir)
    shown = "?" if free is None else str(free)
    return f"{workdir}: {shown} MB free, minspace {minspace_mb} MB"
