"""kojid's runroot plugin config, read with kojid's semantics and mapped to bind mounts.

The file (``/etc/kojid/plugins/runroot.conf``) as kojid reads it::

    [runroot]
    network = none               ; adjutant's: none | bridge | host

    [paths]
    default_mounts = /mnt/koji/compose,/mnt/redhat   ; always mounted
    safe_roots = /mnt/koji/compose                   ; where task-asked mounts may be
    path_subs =
        /mnt/redhat/devel, /mnt/koji/devel           ; task mount prefix substitutions

    [path0]                      ; one section per mountable tree, deeper ones later
    mountpoint = /mnt/koji
    path = /mnt/koji             ; with 'bind' in options: the host dir to bind
    fstype = bind
    options = ro,bind

Each mount is a bind mount at its mount point, **read-only unless the matching
``[pathN]`` options contain ``rw``**. kojid mounts ``fstype``/``path`` itself inside the
chroot; a container cannot, so a non-``bind`` path (an NFS export) must already be
mounted on the host at its mount point, which is then bound. Unlike kojid, which turns
``ro`` into ``rw`` for task-asked mounts, a task mount is writable only when its
``[pathN]`` says ``rw``: the config, not the task, decides what may be written.
"""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: The ``[adjutant]`` key naming the config file, and its default (kojid's own path).
CONFIG_KEY = "runroot_config"
DEFAULT_CONFIG = "/etc/kojid/plugins/runroot.conf"

NETWORK_MODES = ("none", "bridge", "host")


class RunrootConfigError(Exception):
    """The runroot config or a task's mounts are wrong; the message says what to fix."""


@dataclass(frozen=True)
class PathSection:
    """One ``[pathN]`` section: what is mounted at ``mountpoint`` and how."""

    mountpoint: str
    path: str
    fstype: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class BindMount:
    """A host directory bound at ``target`` in the runroot container."""

    source: Path
    target: str
    writable: bool


@dataclass(frozen=True)
class RunrootConfig:
    default_mounts: tuple[str, ...] = ()
    safe_roots: tuple[str, ...] = ()
    path_subs: tuple[tuple[str, str], ...] = ()
    paths: tuple[PathSection, ...] = ()
    network: str = "none"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def default_binds(self) -> list[BindMount]:
        """The ``default_mounts``, each as its ``[pathN]`` says."""
        return [self._bind(path) for path in self.default_mounts]

    def task_binds(self, mounts: list[str]) -> list[BindMount]:
        """The mounts a task asks for: each under a ``safe_roots`` entry, ``path_subs``
        applied, then bound as its ``[pathN]`` says (kojid's ``do_extra_mounts``)."""
        binds = []
        for asked in mounts:
            if not isinstance(asked, str) or not asked.startswith("/"):
                raise RunrootConfigError(f"mount {asked!r} is not an absolute path")
            mount = os.path.normpath(asked)
            if not any(mount.startswith(root) for root in self.safe_roots) \
                    or "/../" in mount:
                raise RunrootConfigError(f"read-write mount point is not safe: {mount} (not "
                                         "under safe_roots in the runroot config)")
            for old, new in self.path_subs:
                mount = mount.replace(old, new)
            binds.append(self._bind(mount))
        return binds

    def _bind(self, path: str) -> BindMount:
        section = next((p for p in self.paths if path.startswith(p.mountpoint)), None)
        if section is None:
            raise RunrootConfigError(f"bad config: no [pathN] section has a mountpoint "
                                     f"containing {path}")
        if "bg" in section.options:
            raise RunrootConfigError("bad config: background mount not allowed")
        rel = path[len(section.mountpoint):].lstrip("/")
        source = Path(section.path, rel) if "bind" in section.options else Path(path)
        if not source.is_dir():
            where = "bind source" if "bind" in section.options else \
                f"{section.fstype} mount (mount it on the host at {section.mountpoint})"
            raise RunrootConfigError(f"No such directory or mount: {source} ({where})")
        return BindMount(source, path, "rw" in section.options)


def read_config(path: Path) -> RunrootConfig:
    """The runroot config at ``path``, checked as kojid checks it."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open() as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as exc:
        raise RunrootConfigError(f"cannot read the runroot config {path}: {exc}") from None

    def listed(key: str) -> tuple[str, ...]:
        if not parser.has_option("paths", key):
            return ()
        return tuple(p.strip() for p in parser.get("paths", key).split(",") if p.strip())

    subs = []
    if parser.has_option("paths", "path_subs"):
        for line in parser.get("paths", "path_subs").splitlines():
            if not line.strip():
                continue
            sub = [part.strip() for part in line.split(",")]
            if len(sub) != 2:
                raise RunrootConfigError(f"{path}: bad runroot substitution: {line.strip()!r} "
                                         "(expected OLD,NEW)")
            subs.append((sub[0], sub[1]))
    sections = sorted((s for s in parser.sections() if re.fullmatch(r"path\d+", s)),
                      key=lambda s: int(s[4:]))
    paths = []
    for name in sections:
        try:
            paths.append(PathSection(
                parser.get(name, "mountpoint"), parser.get(name, "path"),
                parser.get(name, "fstype"),
                tuple(o.strip() for o in parser.get(name, "options").split(","))))
        except configparser.NoOptionError as exc:
            raise RunrootConfigError(f"{path}: bad config: missing options in [{name}] "
                                     f"({exc.option}); each needs mountpoint, path, fstype "
                                     "and options") from None
    defaults, safe = listed("default_mounts"), listed("safe_roots")
    for item in (*defaults, *safe, *(old for old, _ in subs)):
        if not item.startswith("/"):
            raise RunrootConfigError(f"{path}: bad config: all paths (default_mounts, "
                                     f"safe_roots, path_subs) need to be absolute: {item}")
    network = parser.get("runroot", "network", fallback="none").strip()
    if network not in NETWORK_MODES:
        raise RunrootConfigError(f"{path}: [runroot] network = {network!r}: expected one of "
                                 f"{', '.join(NETWORK_MODES)}")
    notes: tuple[str, ...] = ()
    if parser.has_option("runroot", "internal_dev_setup"):
        notes = ("internal_dev_setup has no effect: the container engine sets up /dev",)
    return RunrootConfig(defaults, safe, tuple(subs), tuple(paths), network, notes)
