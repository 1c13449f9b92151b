"""Reading what a container wrote: every file through one door that follows no link.

A build directory is written by an untrusted build and read afterwards by the worker on
the host, as root. A symbolic link left there (``RPMS/x.rpm -> /etc/shadow``), a link in
place of a directory (``RPMS -> /etc``), a fifo, a device node or a name made to mislead
would otherwise make the host read, copy or upload its own files. :class:`UntrustedDir`
is the only way the core and its plugins take files from such a directory:

- every path component is opened relative to the directory's own descriptor with
  ``O_NOFOLLOW``, so no link is followed, wherever it sits and whenever it was swapped in;
- only regular files are opened (``lstat`` first, so a fifo or device is never opened),
  and the descriptor opened must be the very file that was checked;
- names must be plain (no ``/``, no leading dot, no control characters or spaces);
- what is refused is reported through ``on_refusal`` (a line in the task's log) with what
  it is, and never read.

Files that leave the directory are copied through the checked descriptor into a place
only the host writes (:meth:`UntrustedDir.copy_to`), so later steps (header reads,
uploads, the output directory of ``adjutant build``) never touch the untrusted tree.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

#: A file name a build may give a result: no leading dot, no separator, no whitespace
#: or control character (RPM file names fit comfortably).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_+~^@%=,:-][A-Za-z0-9._+~^@%=,:-]{0,254}")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: should a fifo appear between the check and the open, open() must not hang.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

Report = Callable[[str], None]


class UnsafeFile(Exception):
    """A path in an untrusted directory that is refused; ``reason`` says what it is."""

    def __init__(self, relpath: str, reason: str) -> None:
        super().__init__(f"{relpath}: {reason}")
        self.relpath = relpath
        self.reason = reason


@dataclass(frozen=True)
class Refusal:
    """One refused entry: its path relative to the directory and why."""

    relpath: str
    reason: str

    def __str__(self) -> str:
        return f"{self.relpath}: {self.reason}"


def _describe(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _shown(name: str) -> str:
    """A name as it may appear in a log line: quoted, escaped, bounded."""
    text = repr(name)
    return text if len(text) <= 120 else text[:117] + "..."


class UntrustedDir:
    """A directory a container could write, read without trusting anything in it.

    ``root`` itself must be trusted (created by the worker; a mount point inside the
    container, which the container cannot replace). Every refusal is kept in
    :attr:`refusals` and passed to ``on_refusal``.
    """

    def __init__(self, root: Path, on_refusal: Report | None = None) -> None:
        self.root = Path(root)
        self._report = on_refusal
        self.refusals: list[Refusal] = []

    # -- refusing --------------------------------------------------------------------

    def refuse(self, relpath: str, reason: str) -> None:
        refusal = Refusal(relpath, reason)
        self.refusals.append(refusal)
        text = f"refused {refusal} (not read: files a build leaves must be regular files)"
        if self._report is not None:
            self._report(text)
            log.debug("%s: %s", self.root, text)
        else:
            log.warning("%s: %s", self.root, text)

    # -- paths -------------------------------------------------------------------------

    def _parts(self, relpath: str) -> list[str]:
        parts = [p for p in relpath.split("/") if p not in ("", ".")]
        for part in parts:
            if part == ".." or not _PLAIN_NAME.fullmatch(part):
                raise UnsafeFile(_shown(relpath), f"the name {_shown(part)} is not a plain "
                                                  "file name")
        return parts

    def _open_dir(self, parts: list[str], relpath: str) -> int:
        """A descriptor of the directory ``parts`` below the root, no link followed."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        for i, part in enumerate(parts):
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                reason = self._why_not(fd, part, exc, "directory")
                os.close(fd)
                raise UnsafeFile("/".join(parts[:i + 1]), reason) from None
            os.close(fd)
            fd = child
        return fd

    @staticmethod
    def _why_not(dir_fd: int, name: str, exc: OSError, wanted: str) -> str:
        if exc.errno == errno.ENOENT:
            return "does not exist"
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return f"cannot be opened ({exc.strerror})"
        what = _describe(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            with contextlib.suppress(OSError):
                what += f" (to {_shown(os.readlink(name, dir_fd=dir_fd))})"
        return f"{what}, not a {wanted}"

    # -- listing -----------------------------------------------------------------------

    def exists(self, relpath: str) -> bool:
        """Whether ``relpath`` names anything (a link counts; nothing is followed)."""
        try:
            parts = self._parts(relpath)
            fd = self._open_dir(parts[:-1], relpath)
        except (UnsafeFile, OSError):
            return False
        try:
            os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    def is_dir(self, relpath: str) -> bool:
        """Whether ``relpath`` is a real directory (not a link to one)."""
        try:
            fd = self._open_dir(self._parts(relpath), relpath)
        except (UnsafeFile, OSError):
            return False
        os.close(fd)
        return True

    def files(self, subdir: str = "", suffix: str = "") -> list[str]:
        """Relative paths of the regular files directly in ``subdir`` whose names end
        with ``suffix``, sorted. Every other entry matching ``suffix`` (a link, a
        directory, a fifo, a device, a name that is not plain) is refused and reported.
        A missing ``subdir`` gives no files; a ``subdir`` that is a link is refused."""
        prefix = "/".join(self._parts(subdir)) if subdir else ""
        try:
            fd = self._open_dir(self._parts(subdir), subdir)
        except UnsafeFile as exc:
            if exc.reason != "does not exist":
                self.refuse(exc.relpath, exc.reason)
            return []
        found = []
        try:
            for name in sorted(os.listdir(fd)):
                if not name.endswith(suffix):
                    continue
                relpath = f"{prefix}/{name}" if prefix else name
                if not _PLAIN_NAME.fullmatch(name):
                    self.refuse(_shown(relpath), "the name is not a plain file name")
                    continue
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.refuse(relpath, self._why_not(fd, name, OSError(errno.ELOOP, ""),
                                                       "regular file"))
                    continue
                found.append(relpath)
        finally:
            os.close(fd)
        return found

    # -- reading -----------------------------------------------------------------------

    def open(self, relpath: str) -> BinaryIO:
        """The regular file ``relpath`` opened for reading; :class:`UnsafeFile` (not
        reported: the caller decides) for anything else, or if it changed between the
        check and the open."""
        parts = self._parts(relpath)
        if not parts:
            raise UnsafeFile(_shown(relpath), "is the directory itself")
        dir_fd = self._open_dir(parts[:-1], relpath)
        name = parts[-1]
        try:
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError as exc:
                raise UnsafeFile(relpath, self._why_not(dir_fd, name, exc, "file")) from None
            if not stat.S_ISREG(st.st_mode):
                raise UnsafeFile(relpath, self._why_not(dir_fd, name, OSError(errno.ELOOP, ""),
                                                        "regular file"))
            try:
                fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                raise UnsafeFile(relpath, "changed between the check and the open: "
                                 + self._why_not(dir_fd, name, exc, "regular file")) from None
        finally:
            os.close(dir_fd)
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or \
                (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            raise UnsafeFile(relpath, "changed between the check and the open")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def read_bytes(self, relpath: str, limit: int = 64 << 20) -> bytes:
        """The content of ``relpath`` (a regular file of at most ``limit`` bytes)."""
        with self.open(relpath) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise UnsafeFile(relpath, f"is larger than {limit} bytes")
        return data

    def read_text(self, relpath: str, limit: int = 64 << 20) -> str:
        return self.read_bytes(relpath, limit).decode(errors="replace")

    def copy_to(self, relpath: str, dest_dir: Path) -> Path:
        """Copy the regular file ``relpath`` into ``dest_dir`` (a directory only the host
        writes) under the same name, through the checked descriptor; an existing file of
        that name is replaced. Returns the copy's path."""
        name = self._parts(relpath)[-1]
        dest = Path(dest_dir) / name
        partial = Path(dest_dir) / f".{name}.partial"
        with self.open(relpath) as src:
            partial.unlink(missing_ok=True)
            out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                          | os.O_CLOEXEC, 0o644)
            try:
                size = os.fstat(src.fileno()).st_size
                offset = 0
                while True:
                    sent = os.sendfile(out, src.fileno(), offset, max(size - offset, 1 << 20))
                    if sent == 0:
                        break
                    offset += sent
            except BaseException:
                os.close(out)
                partial.unlink(missing_ok=True)
                raise
            os.close(out)
        os.replace(partial, dest)
        return dest

    def collect(self, subdir: str, suffix: str, dest_dir: Path) -> list[Path]:
        """:meth:`files` of ``subdir`` copied into ``dest_dir``; whatever cannot be
        taken safely is refused (and reported), never copied."""
        taken = []
        for relpath in self.files(subdir, suffix):
            try:
                taken.append(self.copy_to(relpath, dest_dir))
            except UnsafeFile as exc:
                self.refuse(exc.relpath, exc.reason)
        return taken


def private_dir(path: Path) -> Path:
    """A directory only root (the worker) may write, for files taken out of containers."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise UnsafeFile(str(path), "is not a directory of this worker's own")
    return path
