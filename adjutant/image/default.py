"""The default buildroot image, built locally from Debian packages with no registry.

Real sites build in distribution images (Fedora, AlmaLinux...) pulled from a registry; this
image lets the demo and the tests run on a machine that reaches no registry. It holds rpm,
rpmbuild, dnf, createrepo_c and git, an unprivileged ``builder`` user (uid 1000) and an rpm
package whose only content is ``Provides:`` for the dpkg-installed tools.

The root filesystem tarball is cached by recipe hash, so importing the same image into a
second engine costs seconds; an image whose recipe label matches is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from adjutant.container.binfmt import handler_problem, runs_natively
from adjutant.container.platforms import Platform, host_arch, platform_of
from adjutant.container.runtime import ContainerRuntime
from adjutant.image.archive import write_archive

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


def recipe_hash(debian_arch: str | None = None) -> str:
    """A digest of everything that goes into the image; a change means a rebuild."""
    h = hashlib.sha256()
    h.update(SUITE.encode())
    if debian_arch:
        h.update(f"\0arch={debian_arch}".encode())
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


def build_rootfs(dest: Path, mirror: str | None = None, debian_arch: str | None = None) -> None:
    """Run mmdebstrap to write the image's root filesystem tarball to ``dest``.

    ``debian_arch`` builds for another arch (``arm64``); its maintainer scripts then run
    under qemu-user, which must be registered with binfmt_misc (a few times slower).
    """
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError("mmdebstrap is not installed: apt-get install mmdebstrap")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        partial = Path(tmp) / "rootfs.tar"
        cmd = [
            "mmdebstrap", "--quiet", "--variant=minbase", "--format=tar",
            *([f"--arch={debian_arch}"] if debian_arch else []),
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


def default_image_ref(arch: str | None = None) -> str:
    """The default image's name for ``arch`` (any Koji spelling): :data:`DEFAULT_IMAGE` for
    this host's own arch, ``DEFAULT_IMAGE-ARCH`` (``...:bookworm-aarch64``) for another."""
    if arch is None or platform_of(arch).arch == host_arch():
        return DEFAULT_IMAGE
    return f"{DEFAULT_IMAGE}-{platform_of(arch).arch}"


def default_image_arch(ref: str) -> str | None:
    """The arch a default image name is for (this host's for :data:`DEFAULT_IMAGE`), or
    None when ``ref`` is not a default image's name."""
    if ref == DEFAULT_IMAGE:
        return host_arch()
    prefix = f"{DEFAULT_IMAGE}-"
    if ref.startswith(prefix):
        arch = ref[len(prefix):]
        with contextlib.suppress(ValueError):
            if default_image_ref(arch) == ref:
                return platform_of(arch).arch
    return None


def ensure_default_image(
    runtime: ContainerRuntime,
    ref: str = DEFAULT_IMAGE,
    cache_dir: Path | None = None,
    mirror: str | None = None,
    force: bool = False,
    arch: str | None = None,
) -> str:
    """Make sure ``ref`` exists in ``runtime`` built from the current recipe; return its id.

    ``arch`` builds it for another arch than the host's (its packages' maintainer scripts
    then run under qemu-user, so the handler must be registered: ImageBuildError says how
    when it is not); the image carries that arch. Quick (one API call) when the image is
    already there with the current recipe label.
    """
    target: Platform | None = None
    if arch is not None and platform_of(arch).arch != host_arch():
        target = platform_of(arch)
    foreign = target is not None and not runs_natively(target)
    digest = recipe_hash(target.debian if target else None)
    info = None if force else runtime.inspect_image(ref)
    if info is not None and info.labels.get(RECIPE_LABEL) == digest:
        return info.id
    cache = cache_dir or default_cache_dir()
    suffix = f"-{target.debian}" if target else ""
    tarball = cache / f"rootfs-{digest[:16]}{suffix}.tar"
    if force or not tarball.exists():
        if target is not None and foreign:
            problem = handler_problem(target)
            if problem:
                raise ImageBuildError(f"cannot build the {target.arch} image: {problem}")
        build_rootfs(tarball, mirror, target.debian if target else None)
    labels = {RECIPE_LABEL: digest}
    if target is None:
        log.info("importing %s into %s as %s", tarball.name, runtime.name, ref)
        return runtime.import_rootfs(tarball, ref, labels)
    # An import would stamp the image with the host's arch: load it as an archive whose
    # config names the target's.
    log.info("loading %s into %s as %s (%s)", tarball.name, runtime.name, ref,
             target.platform)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        archive = Path(tmp) / f"{tarball.stem}.docker-archive.tar"
        write_archive(tarball, archive, ref, target.oci, labels)
        return runtime.load_archive(archive, ref)
