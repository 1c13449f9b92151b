"""The rlimits podman gives a container by default, from containers.conf.

podman drops its configured ``default_ulimits`` as soon as a container asks for any
ulimit, and then sets ``nofile`` and ``nproc`` to values a host without
CAP_SYS_RESOURCE may refuse. So a spec's ulimits are sent together with the defaults
the same engine would have applied, read the way podman reads them.
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: containers.conf, lowest precedence first (podman's order for a rootful engine).
CONF_FILES = (Path("/usr/share/containers/containers.conf"),
              Path("/etc/containers/containers.conf"))
CONF_DIRS = (Path("/usr/share/containers/containers.conf.d"),
             Path("/etc/containers/containers.conf.d"))


def _conf_files() -> list[Path]:
    files = [p for p in CONF_FILES if p.is_file()]
    for directory in CONF_DIRS:
        if directory.is_dir():
            files += sorted(p for p in directory.glob("*.conf") if p.is_file())
    return files


def parse_ulimit(item: str) -> tuple[str, int, int] | None:
    """``name=soft[:hard]`` (containers.conf's spelling) → (name, soft, hard)."""
    name, sep, values = item.partition("=")
    soft, _, hard = values.partition(":")
    try:
        soft_n = -1 if soft == "-1" else int(soft)
        hard_n = int(hard) if hard else soft_n
    except ValueError:
        return None
    return (name.strip().lower(), soft_n, hard_n) if sep and name.strip() else None


def default_ulimits(files: Iterable[Path] | None = None) -> dict[str, tuple[int, int]]:
    """The ``[containers] default_ulimits`` in force: the last file that sets them wins."""
    found: dict[str, tuple[int, int]] = {}
    for path in _conf_files() if files is None else files:
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            log.debug("cannot read %s: %s", path, exc)
            continue
        items = data.get("containers", {}).get("default_ulimits")
        if isinstance(items, list):
            found = {}
            for item in items:
                parsed = parse_ulimit(str(item))
                if parsed is not None:
                    found[parsed[0]] = parsed[1:]
    return found


@functools.cache
def _configured() -> dict[str, tuple[int, int]]:
    """The defaults in force, read once per process (podman reads them at its start)."""
    return default_ulimits()


def with_defaults(requested: Iterable[tuple[str, int, int]]) -> list[dict[str, object]]:
    """podman-py's ``ulimits`` for a spec: the engine's defaults, then the requested ones."""
    merged = dict(_configured())
    for name, soft, hard in requested:
        merged[name] = (soft, hard)
    return [{"Name": name, "Soft": soft, "Hard": hard} for name, (soft, hard) in merged.items()]
