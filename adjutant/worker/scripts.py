"""The shell scripts adjutant runs inside containers (``adjutant/buildroot/data``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from adjutant.container.untrusted import private_dir


def staged_script(workdir: Path, name: str) -> Path:
    """A copy of script ``name`` in ``workdir/scripts``, to mount into a container.

    The engine resolves a mount's source on its own host, where the installed package may
    not be (a worker running in its own container image mounts only workdir, cache_dir and
    topdir at the host's paths), so scripts are mounted from the work dir, never from the
    package.
    """
    dest = private_dir(workdir / "scripts") / name
    dest.write_bytes((resources.files("adjutant.buildroot") / "data" / name).read_bytes())
    return dest
