"""Uploads into ``<topdir>/work`` (raw/fast upload, §5.2-5.3) and reading task output.

Upload destination rules (the real hub's ``get_upload_path``): the name must not contain
``/`` nor start with ``.``; the directory must not be empty nor start with ``..`` after
normalisation. A directory whose first component is ``tasks`` belongs to the host owning the
OPEN task named by its third component (``tasks/<x>/<task_id>/...``): another caller → 1004
(1002 for a non-host or a session without the lock). Any other directory belongs to its
first uploader, remembered in a ``.user`` file → another user gets 1000 ``not owner``.
"""

import base64
import fcntl
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import koji
import koji.util

from .context import CallContext
from .registry import MethodTable
from .rules import as_int, assert_owned

api = MethodTable()


class _Checksum(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


def _verify_class(verify: str | None) -> Callable[[], _Checksum] | None:
    """The checksum constructor for ``verify`` (adler32, md5, sha256); other → 1000."""
    if verify == "md5":
        return hashlib.md5
    if verify == "adler32":
        return koji.util.adler32_constructor
    if verify == "sha256":
        return hashlib.sha256
    if verify:
        raise koji.GenericError(f"Unsupported verify type: {verify}")
    return None


def upload_path(
    ctx: CallContext, reldir: str, name: str, create: bool = False, volume: str | None = None
) -> Path:
    """The path of an upload, validated as described in the module docstring.

    With ``create`` the ownership rules apply and the directory is made.
    """
    head, base = os.path.split(name)
    if head or base.startswith("."):
        raise koji.GenericError(f"Invalid upload filename: {name}")
    norm = os.path.normpath(reldir) if reldir else ""
    if not norm or norm.startswith(".."):
        raise koji.GenericError(f"Invalid upload directory: {reldir}")
    if volume not in (None, "DEFAULT"):
        raise koji.GenericError(f"No such entry in table volume: {volume}")
    parts = norm.split("/")
    check_user = True
    if create and parts[0] == "tasks":
        if len(parts) < 3:
            raise koji.GenericError(f"Invalid task upload directory: {reldir}")
        try:
            task_id = int(parts[2])
        except ValueError:
            raise koji.GenericError(f"Invalid task upload directory: {reldir}") from None
        assert_owned(ctx.db, ctx.require_host(), task_id)
        check_user = False
    udir = ctx.core.workdir / norm
    if create:
        udir.mkdir(parents=True, exist_ok=True)
        if check_user:
            marker = udir / ".user"
            if marker.exists():
                if int(marker.read_text()) != ctx.user_id:
                    raise koji.GenericError(
                        f"Invalid upload directory, not owner: {reldir}"
                    )
            else:
                marker.write_text(str(ctx.user_id))
    return udir / base


def raw_upload(ctx: CallContext, query: dict[str, list[str]], body: bytes) -> dict[str, Any]:
    """Write one chunk (the POST body) as the real hub's ``handle_upload`` does.

    Query params: ``filename`` (required), ``filepath``, ``fileverify``, ``offset`` (-1 =
    append), ``overwrite`` (truncate at offset first), ``volume``. An existing file at offset
    0 without overwrite → 1000; without overwrite the file must end at offset + size → 1000.
    Returns ``{'size', 'fileverify', 'offset'[, 'hexdigest']}``.
    """
    if not ctx.logged_in:
        raise koji.ActionNotAllowed("you must be logged-in to upload a file")
    name = query["filename"][0]
    path = query.get("filepath", [""])[0]
    verify = query.get("fileverify", [""])[0]
    overwrite = query.get("overwrite", [""])[0]
    offset = int(query.get("offset", ["0"])[0])
    volume = query.get("volume", ["DEFAULT"])[0]
    fn = upload_path(ctx, path, name, create=True, volume=volume)
    try:
        st = os.lstat(fn)
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise koji.GenericError(f"destination is a symlink: {fn}")
        if not stat.S_ISREG(st.st_mode):
            raise koji.GenericError(f"destination not a file: {fn}")
        if offset == 0 and not overwrite:
            raise koji.GenericError(f"upload path exists: {fn}")
    constructor = _verify_class(verify)
    chksum = constructor() if constructor else None
    fd = os.open(fn, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise koji.LockError(exc) from None
        if offset == -1:
            offset = os.lseek(fd, 0, os.SEEK_END)
        elif overwrite:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
        else:
            os.lseek(fd, offset, os.SEEK_SET)
        os.write(fd, body)
        if chksum is not None:
            chksum.update(body)
        if not overwrite:
            flen = os.lseek(fd, 0, os.SEEK_END)
            if flen != offset + len(body):
                raise koji.GenericError(
                    f"Incorrect upload length for {fn} - "
                    f"Expected {offset + len(body)}, actual {flen}"
                )
    finally:
        os.close(fd)
    result: dict[str, Any] = {"size": len(body), "fileverify": verify, "offset": offset}
    if chksum is not None:
        result["hexdigest"] = chksum.hexdigest()
    return result


@api.method("checkUpload", reads_only=True)
def check_upload(
    ctx: CallContext,
    /,
    path: str,
    name: str,
    verify: str | None = None,
    tail: int | None = None,
    volume: str | None = None,
) -> dict[str, Any] | None:
    """None if the upload does not exist, else ``{'size', 'mtime'[, 'sumlength',
    'hexdigest']}`` (checksum over the whole file, or its last ``tail`` bytes)."""
    fn = upload_path(ctx, path, name, volume=volume)
    try:
        fd = os.open(fn, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise koji.GenericError(f"Not a regular file: {fn}")
        data: dict[str, Any] = {"size": st.st_size, "mtime": st.st_mtime}
        constructor = _verify_class(verify)
        if constructor is not None:
            chksum = constructor()
            if tail is not None:
                if tail < 0:
                    raise koji.GenericError(f"Invalid tail value: {tail!r}")
                os.lseek(fd, max(st.st_size - tail, 0), os.SEEK_SET)
            length = 0
            while chunk := os.read(fd, 65536):
                length += len(chunk)
                chksum.update(chunk)
            data["sumlength"] = length
            data["hexdigest"] = chksum.hexdigest()
        return data
    finally:
        os.close(fd)


def _task_dir(ctx: CallContext, task_id: int) -> Path:
    return ctx.core.workdir / koji.pathinfo.taskrelpath(task_id)


@api.method("listTaskOutput")
def list_task_output(
    ctx: CallContext,
    /,
    taskID: Any,
    stat: bool = False,
    all_volumes: bool = False,
    strict: bool = False,
) -> Any:
    """Files under the task's output dir (relative names); with ``stat`` a map to
    ``{st_size (as text), st_atime, st_mtime, st_ctime}``; with ``all_volumes`` keyed by
    volume too (only ``DEFAULT`` exists here)."""
    task_id = as_int(taskID, "taskID")
    if strict and task_id not in ctx.db.tasks:
        raise koji.GenericError("Task doesn't exist")
    result: Any = {} if (stat or all_volumes) else []
    base = _task_dir(ctx, task_id)
    if not base.is_dir():
        return result
    for dirpath, _dirs, files in os.walk(base):
        for filename in sorted(files):
            full = Path(dirpath) / filename
            rel = str(full.relative_to(base))
            if stat:
                st = full.stat()
                info = {"st_size": str(st.st_size), "st_atime": st.st_atime,
                        "st_mtime": st.st_mtime, "st_ctime": st.st_ctime}
                if all_volumes:
                    result.setdefault(rel, {})["DEFAULT"] = info
                else:
                    result[rel] = info
            elif all_volumes:
                result.setdefault(rel, []).append("DEFAULT")
            else:
                result.append(rel)
    return result


@api.method("downloadTaskOutput")
def download_task_output(
    ctx: CallContext,
    /,
    taskID: Any,
    fileName: str,
    offset: int = 0,
    size: int = -1,
    volume: str | None = None,
) -> str:
    """Up to ``size`` bytes (-1: all) of a task output file from ``offset`` (negative: from
    the end), base64-encoded as text; ``ClientSession.downloadTaskOutput`` decodes it."""
    task_id = as_int(taskID, "taskID")
    if volume not in (None, "DEFAULT"):
        raise koji.GenericError(f"No such volume: {volume}")
    if ".." in fileName:
        raise koji.GenericError(f"Invalid file name: {fileName}")
    path = Path(os.path.normpath(_task_dir(ctx, task_id) / fileName))
    if not path.is_file():
        raise koji.GenericError(f'no file "{fileName}" output by task {task_id}')
    with path.open("rb") as fo:
        offset = int(offset)
        if offset > 0:
            fo.seek(offset, os.SEEK_SET)
        elif offset < 0:
            fo.seek(offset, os.SEEK_END)
        contents = fo.read(int(size))
    return base64.b64encode(contents).decode("ascii")
