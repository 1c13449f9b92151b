"""Which 32-bit packages a 64-bit dist repo carries (``koji dist-repo --multilib``).

kojid asks python-multilib's *devel* method, configured by the file the user gave
``--multilib`` (uploaded to the hub's work dir), which packages of the 64-bit repo need
their 32-bit counterpart; dnf then adds what those counterparts depend on. This module is
that method's decision, written here from its documented rules (the multilib module is
not installable where adjutant runs):

- the config's ``[devel]`` and ``[runtime]`` sections each have a ``white`` and a
  ``black`` list of package names, asked in that order: devel black, devel white,
  runtime black, runtime white;
- a 64-bit ``gdb``, ``strace`` and the like, and a kernel, want their 32-bit part;
- *runtime*: shared libraries (``*.so.*``) in the standard library dirs, plug-in dirs of
  pam, alsa, dri, sasl, gtk2, gstreamer, qt, kde, xine, wine, sane and the like,
  ``/etc/ld.so.conf.d/*.conf``, nss and db modules;
- *devel*: additionally ``*-devel`` and ``*-static`` packages (not ``ghc-*``), and kernel
  packages providing a ``-devel`` or ``-static`` name other than ``kernel-devel``.

One deliberate difference: python-multilib tests ``name in <the list as one string>``,
so ``http`` would match ``httpd``; here a list is a list of names.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from adjutant.rpm.header import RpmInfo

PREFER_64 = frozenset({"gdb", "frysk", "systemtap", "systemtap-runtime", "ltrace", "strace"})
ROOT_LIBDIRS = frozenset({"/lib", "/lib64"})
USR_LIBDIRS = frozenset({"/usr/lib", "/usr/lib64"})
_PLUGIN_DIRS = ("alsa-lib", "dri", "gtk-2.0/modules", "gtk-2.0/immodules", "krb5/plugins",
                "sasl2", "vdpau")
BY_DIR = frozenset(
    {f"{lib}/{sub}" for lib in USR_LIBDIRS for sub in _PLUGIN_DIRS}
    | {f"{lib}/security" for lib in ROOT_LIBDIRS} | {"/etc/lsb-release.d"})
#: Directory patterns under /usr/lib* whose contents are plug-ins (any file counts).
PLUGIN_PATTERNS = (
    "/usr/lib*/gtk-2.0/*/engines", "/usr/lib*/gtk-2.0/*/modules",
    "/usr/lib*/gtk-2.0/*/immodules", "/usr/lib*/gtk-2.0/*/loaders",
    "/usr/lib*/gtk-2.0/*/printbackends", "/usr/lib*/gtk-2.0/*/filesystems",
    "/usr/lib*/qt*/plugins/*", "/usr/lib*/kde*/plugins/*", "/usr/lib*/qt5/qml/*",
    "/usr/lib*/gdk-pixbuf-2.0/*/loaders", "/usr/lib*/xine/plugins/*")

_LIB_SUBDIRS = frozenset(f"{lib}/{sub}" for lib in USR_LIBDIRS
                         for sub in ("oprofile", "wine", "sane"))


class MultilibConfigError(ValueError):
    """The ``--multilib`` config cannot be read or is not a multilib config."""


@dataclass(frozen=True)
class MultilibConfig:
    """The white and black lists of the runtime and devel methods."""

    runtime_white: frozenset[str] = frozenset()
    runtime_black: frozenset[str] = frozenset()
    devel_white: frozenset[str] = frozenset()
    devel_black: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str, name: str) -> MultilibConfig:
        """The lists of config ``text`` (``name`` is for messages). Both sections with
        both keys are required, as python-multilib's devel method needs them."""
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text, source=name)
            return cls(**{f"{section}_{key}": frozenset(parser.get(section, key).split())
                          for section in ("runtime", "devel") for key in ("white", "black")})
        except configparser.Error as exc:
            raise MultilibConfigError(
                f"{name} is not a usable multilib config ({exc.message.splitlines()[0]}); "
                "it needs [runtime] and [devel] sections, each with 'white' and 'black' "
                "lists of package names, as python-multilib's multilib.conf") from None


def config_path(workdir: Path, relpath: str) -> Path:
    """The ``--multilib`` config the CLI uploaded: ``relpath`` under the hub's work dir.

    The path comes from the task's options, so it must stay inside the work dir, with no
    link on the way (MultilibConfigError otherwise): the worker never reads a host file
    a task names."""
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise MultilibConfigError(f"multilib config {relpath!r} is not a path inside the "
                                  "hub's work dir")
    path = workdir
    for part in rel.parts:
        path = path / part
        if path.is_symlink():
            raise MultilibConfigError(f"multilib config {relpath!r}: {part} is a link; "
                                      "upload the file itself")
    if not path.is_file():
        raise MultilibConfigError(f"multilib config {relpath!r} is not in the hub's work "
                                  "dir (koji dist-repo --multilib uploads it there)")
    return path


def _prefers_64(info: RpmInfo) -> bool:
    if "64" not in info.arch:
        return False
    return info.name in PREFER_64 or (info.name.startswith("kernel") and any(
        p in ("kernel", "kernel-devel") for p in info.provides))


def _runtime_file(path: str) -> bool:
    dirname, _, filename = path.rpartition("/")
    if dirname in ROOT_LIBDIRS | USR_LIBDIRS and fnmatch(filename, "*.so.*"):
        return True
    if dirname in BY_DIR or (dirname == "/etc/ld.so.conf.d" and filename.endswith(".conf")):
        return True
    if dirname in ROOT_LIBDIRS and filename.startswith(("libnss_", "libdb-")):
        return True
    if not dirname.startswith(tuple(USR_LIBDIRS)):
        return False
    if dirname.startswith(("/usr/lib/gstreamer-", "/usr/lib64/gstreamer-")):
        return True
    if any(fnmatch(dirname, pattern) for pattern in PLUGIN_PATTERNS):
        return True
    sub = dirname.split("/", 3)[3] if dirname in _LIB_SUBDIRS else ""
    return (sub == "oprofile" and fnmatch(filename, "*.so.*")) \
        or (sub == "wine" and filename.endswith(".so")) \
        or (sub == "sane" and filename.startswith("libsane-"))


def runtime_selects(config: MultilibConfig, info: RpmInfo) -> bool:
    """The runtime method: whether ``info`` needs its 32-bit counterpart at run time."""
    if info.name in config.runtime_black:
        return False
    if info.name in config.runtime_white or _prefers_64(info):
        return True
    if info.name.startswith("kernel") and "kernel" in info.provides:
        return False
    return any(_runtime_file(path) for path in info.files)


def devel_selects(config: MultilibConfig, info: RpmInfo) -> bool:
    """The devel method (kojid's): the runtime method plus development packages."""
    if info.name in config.devel_black:
        return False
    if info.name in config.devel_white:
        return True
    if runtime_selects(config, info):
        return True
    if info.name.startswith("ghc-"):
        return False
    if info.name.startswith("kernel"):
        for provide in info.provides:
            if provide == "kernel-devel":
                return False
            if provide.endswith(("-devel", "-static")):
                return True
    return info.name.endswith(("-devel", "-static"))
