"""Arch names across Koji, OCI platforms and Debian, and this host's own arch.

Koji names arches as rpm does (``aarch64``, ``ppc64le``); an engine's ``--platform`` uses
OCI names (``linux/arm64``); Debian (the default image's packages) has its own
(``arm64``, ``ppc64el``). This module is the one table between them.
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    """One canonical rpm arch with its names elsewhere.

    ``qemu`` is the name of the qemu-user binfmt handler (``/proc/sys/fs/binfmt_misc/
    qemu-NAME``) that runs the arch's binaries on another host.
    """

    arch: str
    oci: str
    debian: str
    qemu: str

    @property
    def platform(self) -> str:
        """The engine's ``--platform`` value (``linux/arm64``)."""
        return f"linux/{self.oci}"


_TABLE = {p.arch: p for p in (
    Platform("x86_64", "amd64", "amd64", "x86_64"),
    Platform("i386", "386", "i386", "i386"),
    Platform("aarch64", "arm64", "arm64", "aarch64"),
    Platform("armhfp", "arm", "armhf", "arm"),
    Platform("ppc64le", "ppc64le", "ppc64el", "ppc64le"),
    Platform("ppc64", "ppc64", "ppc64", "ppc64"),
    Platform("s390x", "s390x", "s390x", "s390x"),
    Platform("riscv64", "riscv64", "riscv64", "riscv64"),
)}


class UnknownArch(ValueError):
    """An arch adjutant has no container platform for."""


def canonical(arch: str) -> str:
    """Koji's canonical arch of ``arch`` (``i686`` is ``i386``, ``armv7hl`` is ``armhfp``)."""
    if arch in _TABLE:
        return arch  # each table key is its own canonical arch (a unit test checks it)
    # koji is imported only here: ``adjutant build`` needs this module, and koji's import
    # (requests, gssapi) is a third of its start-up.
    import koji

    canon = str(koji.canonArch(arch))
    return "i386" if canon in ("i386", "i486", "i586", "i686", "athlon") else canon


def platform_of(arch: str) -> Platform:
    """The :class:`Platform` of a Koji arch (any spelling koji canonicalises).

    Raises UnknownArch naming the arches that are known.
    """
    found = _TABLE.get(canonical(arch))
    if found is None:
        raise UnknownArch(f"no container platform is known for arch {arch!r}; known: "
                          f"{' '.join(sorted(_TABLE))}")
    return found


def from_oci(oci_arch: str) -> str | None:
    """The canonical rpm arch of an image's OCI ``Architecture`` (``arm64`` is
    ``aarch64``), or None for one not in the table."""
    for entry in _TABLE.values():
        if entry.oci == oci_arch:
            return entry.arch
    return None


def host_arch() -> str:
    """This machine's canonical rpm arch."""
    return canonical(_platform.machine())
