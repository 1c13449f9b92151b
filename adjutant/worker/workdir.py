"""Removing a task's work dir, as koji's ``safe_rmtree`` does, without its fork.

koji removes the work dir in a forked child, walking it without crossing into another file
system. The fork of a task process costs 10-25 ms on a busy host, at the end of every task,
just before it reports. Here the tree is removed in the task process by
:func:`shutil.rmtree`, which works from directory descriptors and never follows a link:
the tree holds what containers wrote. Only when something is mounted under the dir (never
by adjutant: containers' mounts live in their own namespaces) does koji's walk do it.
"""

from __future__ import annotations

import os
import re
import shutil

import koji.tasks

_ESCAPED = re.compile(r"\\([0-7]{3})")


def mount_points(mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """This process's mount points (``mountinfo``'s fifth field, unescaped)."""
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as lines:
            fields = [line.split() for line in lines]
    except OSError:
        return []
    return [_ESCAPED.sub(lambda m: chr(int(m.group(1), 8)), f[4]) for f in fields if len(f) > 4]


def remove_workdir(path: str, mountinfo: str = "/proc/self/mountinfo") -> None:
    """Remove ``path`` and all under it; nothing if it does not exist. Raises OSError
    when something cannot be removed (koji's ``strict``)."""
    if os.path.islink(path) or os.path.isfile(path):
        os.remove(path)
        return
    if not os.path.exists(path):
        return
    inside = os.path.realpath(path).rstrip("/") + "/"
    if any(point.startswith(inside) for point in mount_points(mountinfo)):
        koji.tasks.safe_rmtree(path, unmount=False, strict=True)
        return
    shutil.rmtree(path)
