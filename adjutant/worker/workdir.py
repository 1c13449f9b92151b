"""Removing a task's work dir, in the task process, whatever a build left in it.

koji's ``safe_rmtree`` forks a child that walks the tree by changing directory, without
crossing into another file system. The fork of a task process costs 10-25 ms on a busy
host, at the end of every task, just before it reports. And the tree holds what
containers wrote, so it may be hostile: a build can nest directories thousands of levels
deep. ``shutil.rmtree`` recurses once per level and gives up with RecursionError; koji's
walk asks for the working directory at every level, which past PATH_MAX takes minutes.

So the tree is removed here by a walk that holds two directory descriptors at most, keeps
its own stack of names (no recursion, no long paths) and never follows a link. It stays on
the tree's file system. When something is mounted under the dir (never by adjutant:
containers' mounts live in their own namespaces), or the mounts cannot be read, koji's
walk does it as in kojid.
"""

from __future__ import annotations

import os
import re

import koji.tasks

_ESCAPED = re.compile(r"\\([0-7]{3})")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def mount_points(mountinfo: str = "/proc/self/mountinfo") -> list[str] | None:
    """This process's mount points (``mountinfo``'s fifth field, unescaped); None when
    they cannot be read."""
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as lines:
            fields = [line.split() for line in lines]
    except OSError:
        return None
    return [_ESCAPED.sub(lambda m: chr(int(m.group(1), 8)), f[4]) for f in fields if len(f) > 4]


def remove_workdir(path: str, mountinfo: str = "/proc/self/mountinfo") -> None:
    """Remove ``path`` and all under it; nothing if it does not exist. Raises OSError (or,
    on koji's walk, what ``safe_rmtree(strict=True)`` raises) when the tree cannot be
    removed."""
    if os.path.islink(path) or os.path.isfile(path):
        os.remove(path)
        return
    if not os.path.exists(path):
        return
    inside = os.path.realpath(path).rstrip("/") + "/"
    points = mount_points(mountinfo)
    if points is None or any(p.startswith(inside) for p in points):
        koji.tasks.safe_rmtree(path, unmount=False, strict=True)
        return
    remove_tree(path)


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _clear_files(fd: int) -> list[str]:
    """Unlink everything in directory ``fd`` but its subdirectories; their names."""
    subdirs = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
    return subdirs


def remove_tree(path: str) -> None:
    """Remove directory ``path`` and everything under it, depth first, without recursion,
    long paths or following links. Raises OSError when an entry cannot be removed, when a
    subdirectory is on another file system, or when the tree is moved while it is walked.
    """
    fd = os.open(path, _DIR_FLAGS)
    try:
        device = os.fstat(fd).st_dev
        #: Per level above the current dir: that dir's identity, its subdirectories still
        #: to walk, and the name of the one being walked.
        above: list[tuple[tuple[int, int], list[str], str]] = []
        pending = _clear_files(fd)
        while True:
            if pending:
                name = pending.pop()
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                if os.fstat(child).st_dev != device:
                    os.close(child)
                    raise OSError(f"{name} under {path} is on another file system")
                above.append((_identity(fd), pending, name))
                os.close(fd)
                fd = child
                pending = _clear_files(fd)
                continue
            if not above:
                break
            parent_identity, pending, name = above.pop()
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            if _identity(fd) != parent_identity:
                raise OSError(f"the tree under {path} was moved while it was removed")
            os.rmdir(name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)
