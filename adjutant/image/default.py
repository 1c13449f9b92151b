"""The default buildroot image, built locally from Debian packages with no registry.

Real sites build in distribution images (Fedora, AlmaLinux...) pulled from a registry; this
image lets the demo and the tests run on a machine that reaches no registry. It holds rpm,
rpmbuild, dnf, createrepo_c and git, an unprivileged ``builder`` user (uid 1000) and an rpm
package whose only content is ``Provides:`` for the dpkg-installed tools.

The root filesystem tarball is cached by recipe hash, so importing the same image into a
second engine costs seconds; an image whose recipe label matches is left alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from adjutant.container.runtime import ContainerRuntime

log = logging.getLogger(__name__)

DEFAULT_IMAGE = "localhost/adjutant-buildroot:bookworm"
RECIPE_LABEL = "io.koji-adjutant.recipe"
SUITE = "bookworm"
PACKAGES = (
    "rpm", "createrepo-c", "dnf", "git", "make", "tar", "gzip", "bzip2", "xz-utils", "cpio",
    "python3", "patch", "diffutils", "findutils", "file", "ca-certificates", "passwd",
)
FALLBACK_MIRROR = "http://deb.debian.org/debian"


class ImageBuildError(Exception):
    """Building the default image failed; the message says which step and how to fix it."""


def _data(name: str) -> Path:
    return Path(str(resources.files("adjutant.image") / "data" / name))


def recipe_hash() -> str:
    """A digest of everything that goes into the image; a change means a rebuild."""
    h = hashlib.sha256()
    h.update(SUITE.encode())
    h.update("\0".join(PACKAGES).encode())
    for name in ("customize.sh", "adjutant-base-provides.spec"):
        h.update(_data(name).read_bytes())
    return h.hexdigest()


def debian_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line format)."""
    for path in sorted(sources.glob("sources.list.d/*.sources")):
        for uri in re.findall(r"^URIs:\s*(\S+)", path.read_text(), re.MULTILINE):
            if "security" not in uri:
                return str(uri)
    legacy = sources / "sources.list"
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1]
    return FALLBACK_MIRROR


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "koji-adjutant"


def build_rootfs(dest: Path, mirror: str | None = None) -> None:
    """Run mmdebstrap to write the image's root filesystem tarball to ``dest``."""
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError("mmdebstrap is not installed: apt-get install mmdebstrap")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        partial = Path(tmp) / "rootfs.tar"
        cmd = [
            "mmdebstrap", "--quiet", "--variant=minbase", "--format=tar",
            f"--include={','.join(PACKAGES)}",
            f"--customize-hook=sh {_data('customize.sh')} \"$1\" "
            f"{_data('adjutant-base-provides.spec')}",
            SUITE, str(partial), mirror or debian_mirror(),
        ]
        log.info("building the base root filesystem with mmdebstrap (about a minute)")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ImageBuildError(
                f"mmdebstrap failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
            )
        partial.rename(dest)


def ensure_default_image(
    runtime: ContainerRuntime,
    ref: str = DEFAULT_IMAGE,
    cache_dir: Path | None = None,
    mirror: str | None = None,
    force: bool = False,
) -> str:
    """Make sure ``ref`` exists in ``runtime`` built from the current recipe; return its id.

    Quick (one API call) when the image is already there with the current recipe label.
    """
    digest = recipe_hash()
    info = None if force else runtime.inspect_image(ref)
    if info is not None and info.labels.get(RECIPE_LABEL) == digest:
        return info.id
    tarball = (cache_dir or default_cache_dir()) / f"rootfs-{digest[:16]}.tar"
    if force or not tarball.exists():
        build_rootfs(tarball, mirror)
    log.info("importing %s into %s as %s", tarball.name, runtime.name, ref)
    return runtime.import_rootfs(tarball, ref, {RECIPE_LABEL: digest})
