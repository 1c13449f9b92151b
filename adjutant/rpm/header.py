"""A reader for RPM package headers, in pure Python.

The rpm bindings are not installable into a virtualenv here (Debian's python3-rpm binds
only the system interpreter), and the worker needs just a few header fields: the
identity of a package, its build dependencies and arch restrictions, and the payload
digest the hub records.

Format: a 96-byte lead, then the signature header (padded to 8 bytes), then the main
header. A header is ``8e ad e8 01``, 4 reserved bytes, the index entry count and data
size (big-endian uint32), the index entries (tag, type, offset, count: 4 x uint32) and
the data store.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

LEAD_SIZE = 96
HEADER_MAGIC = b"\x8e\xad\xe8\x01"

# Main header tags.
NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
BUILDTIME, SIZE = 1006, 1009
VENDOR, PACKAGER, DISTRIBUTION = 1011, 1015, 1010
ARCH, SOURCERPM = 1022, 1044
OLDFILENAMES, PROVIDENAME = 1027, 1047
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
REQUIREFLAGS, REQUIRENAME, REQUIREVERSION = 1048, 1049, 1050
EXCLUDEARCH, EXCLUSIVEARCH = 1059, 1061
SOURCEPACKAGE = 1106
BUILDARCHS = 1089
CHANGELOGTIME, CHANGELOGNAME, CHANGELOGTEXT = 1080, 1081, 1082
# Signature header tags.
SIG_SIZE, SIG_MD5 = 1000, 1004

_INT_FORMATS = {2: "B", 3: "H", 4: "I", 5: "Q"}
_INT_SIZES = {2: 1, 3: 2, 4: 4, 5: 8}


_SENSE_LESS, _SENSE_GREATER, _SENSE_EQUAL = 0x02, 0x04, 0x08
_SENSE_RPMLIB = 1 << 24


class RpmHeaderError(ValueError):
    """The file is not an RPM package, or its header is damaged."""


def _read_header(fh: BinaryIO, pad: bool) -> dict[int, Any]:
    intro = fh.read(16)
    if len(intro) < 16 or intro[:4] != HEADER_MAGIC:
        raise RpmHeaderError("no RPM header where one was expected")
    count, size = struct.unpack(">II", intro[8:16])
    if count > 100_000 or size > 256 * 1024 * 1024:
        raise RpmHeaderError(f"implausible header size ({count} entries, {size} bytes)")
    index = fh.read(16 * count)
    store = fh.read(size)
    if len(index) < 16 * count or len(store) < size:
        raise RpmHeaderError("file ends inside an RPM header")
    if pad and size % 8:
        fh.read(8 - size % 8)
    values: dict[int, Any] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack_from(">IIII", index, 16 * i)
        values[tag] = _decode(store, kind, offset, n)
    return values


def _decode(store: bytes, kind: int, offset: int, count: int) -> Any:
    if kind in _INT_FORMATS:
        width = _INT_SIZES[kind]
        return list(struct.unpack_from(f">{count}{_INT_FORMATS[kind]}", store, offset)) \
            if offset + width * count <= len(store) else []
    if kind == 7:  # binary
        return store[offset:offset + count]
    if kind in (6, 8, 9):  # string, string array, i18n string
        strings = []
        pos = offset
        for _ in range(count if kind != 6 else 1):
            end = store.index(b"\0", pos)
            strings.append(store[pos:end].decode("utf-8", "replace"))
            pos = end + 1
        return strings[0] if kind == 6 else strings
    return None


@dataclass(frozen=True)
class RpmInfo:
    """The fields of one package file the worker and the hub care about."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    is_source: bool
    sourcerpm: str | None
    payloadhash: str
    size: int
    buildtime: int
    requires: tuple[str, ...]
    requirements: tuple[str, ...]
    exclusivearch: tuple[str, ...]
    excludearch: tuple[str, ...]
    buildarchs: tuple[str, ...]
    vendor: str | None
    packager: str | None
    distribution: str | None
    #: ``(time, author line, text)``, newest first, as in the spec's %changelog.
    changelog: tuple[tuple[int, str, str], ...] = ()
    #: The names the package provides (its own name among them).
    provides: tuple[str, ...] = ()
    #: The paths of the package's files and directories.
    files: tuple[str, ...] = ()

    @property
    def nvr(self) -> str:
        return f"{self.name}-{self.version}-{self.release}"

    @property
    def filename(self) -> str:
        """``N-V-R.A.rpm``, or ``N-V-R.src.rpm`` for a source package."""
        return f"{self.nvr}.{'src' if self.is_source else self.arch}.rpm"

    def as_buildroot_entry(self) -> dict[str, Any]:
        """The eight fields the hub takes for a buildroot listing entry."""
        return {"name": self.name, "version": self.version, "release": self.release,
                "epoch": self.epoch, "arch": self.arch, "payloadhash": self.payloadhash,
                "size": self.size, "buildtime": self.buildtime}


def _requirements(main: Mapping[int, Any]) -> tuple[str, ...]:
    """Requirements as dependency strings (``name >= 1.2``), rpmlib() ones left out."""
    names = main.get(REQUIRENAME) or []
    flags = main.get(REQUIREFLAGS) or [0] * len(names)
    versions = main.get(REQUIREVERSION) or [""] * len(names)
    result = []
    for name, flag, version in zip(names, flags, versions, strict=False):
        if flag & _SENSE_RPMLIB or name.startswith("rpmlib("):
            continue
        op = ("<" if flag & _SENSE_LESS else "") + (">" if flag & _SENSE_GREATER else "") \
            + ("=" if flag & _SENSE_EQUAL else "")
        result.append(f"{name} {op} {version}" if op and version else name)
    return tuple(dict.fromkeys(result))


def _files(main: Mapping[int, Any]) -> tuple[str, ...]:
    """The package's paths: rebuilt from its compressed file list (a directory index
    per base name), or the old flat list of packages that predate it."""
    basenames = main.get(BASENAMES) or []
    if not basenames:
        return tuple(main.get(OLDFILENAMES) or ())
    dirnames = main.get(DIRNAMES) or []
    indexes = main.get(DIRINDEXES) or []
    try:
        return tuple(dirnames[index] + base
                     for base, index in zip(basenames, indexes, strict=True))
    except (IndexError, ValueError):
        raise RpmHeaderError("damaged file list (directory index out of range)") from None


def _first(values: Mapping[int, Any], tag: int) -> Any:
    value = values.get(tag)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def read_rpm(path: Path) -> RpmInfo:
    """Read ``path``'s headers; RpmHeaderError names the file when it is not a package."""
    try:
        with open(path, "rb") as fh:
            lead = fh.read(LEAD_SIZE)
            if len(lead) < LEAD_SIZE or lead[:4] != b"\xed\xab\xee\xdb":
                raise RpmHeaderError("not an RPM package (bad lead)")
            sig = _read_header(fh, pad=True)
            main = _read_header(fh, pad=False)
        files = _files(main)
    except RpmHeaderError as exc:
        raise RpmHeaderError(f"{path.name}: {exc}") from None
    md5 = sig.get(SIG_MD5)
    is_source = SOURCEPACKAGE in main or _first(main, SOURCERPM) is None
    return RpmInfo(
        name=main[NAME], version=main[VERSION], release=main[RELEASE],
        epoch=_first(main, EPOCH), arch=main.get(ARCH, "noarch"), is_source=is_source,
        sourcerpm=None if is_source else _first(main, SOURCERPM),
        payloadhash=md5.hex() if isinstance(md5, bytes) else "",
        size=int(_first(main, SIZE) or 0), buildtime=int(_first(main, BUILDTIME) or 0),
        requires=tuple(main.get(REQUIRENAME) or ()),
        requirements=_requirements(main),
        exclusivearch=tuple(main.get(EXCLUSIVEARCH) or ()),
        excludearch=tuple(main.get(EXCLUDEARCH) or ()),
        buildarchs=tuple(main.get(BUILDARCHS) or ()),
        vendor=main.get(VENDOR), packager=main.get(PACKAGER),
        distribution=main.get(DISTRIBUTION),
        changelog=tuple(zip(main.get(CHANGELOGTIME) or (), main.get(CHANGELOGNAME) or (),
                            main.get(CHANGELOGTEXT) or (), strict=False)),
        provides=tuple(main.get(PROVIDENAME) or ()), files=files,
    )
