"""packaging/container/compose.yaml mounts what the containerized worker needs, each at
the host's own path (the host engine resolves the build containers' mount sources)."""

from __future__ import annotations

import re
from pathlib import Path

COMPOSE = Path(__file__).resolve().parents[2] / "packaging" / "container" / "compose.yaml"
#: ``${NAME:-default}`` as compose expands it with NAME unset.
_DEFAULTED = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def volumes() -> dict[str, tuple[str, str]]:
    """target -> (source, mode) of the service's volume list, defaults expanded."""
    found = {}
    in_volumes = False
    for line in COMPOSE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped == "volumes:":
            in_volumes = True
            continue
        if in_volumes and not stripped.startswith("- "):
            break
        if in_volumes:
            source, target, *mode = _DEFAULTED.sub(r"\1", stripped[2:]).split(":")
            found[target] = (source, mode[0] if mode else "rw")
    return found


def test_every_mount_is_at_the_hosts_own_path() -> None:
    mounts = volumes()
    assert mounts, "no volumes found"
    for target, (source, _mode) in mounts.items():
        assert source == target


def test_mounts_the_engine_socket_config_work_cache_and_topdir() -> None:
    assert volumes() == {
        "/run/podman/podman.sock": ("/run/podman/podman.sock", "rw"),
        "/etc/kojid": ("/etc/kojid", "ro"),
        "/var/tmp/koji": ("/var/tmp/koji", "rw"),
        "/var/cache/koji-adjutant": ("/var/cache/koji-adjutant", "rw"),
        "/mnt/koji": ("/mnt/koji", "ro"),
    }


def test_defaults_match_the_configs_defaults() -> None:
    from adjutant.config import ADJUTANT_OPTIONS, KOJID_OPTIONS
    from adjutant_podman.plugin import DEFAULT_URL

    mounts = volumes()
    for path in (KOJID_OPTIONS["workdir"].default, KOJID_OPTIONS["topdir"].default,
                 ADJUTANT_OPTIONS["cache_dir"].default,
                 DEFAULT_URL.removeprefix("unix://")):
        assert path in mounts
