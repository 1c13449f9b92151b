"""Taking a task's results out of the directory its build wrote, and uploading them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import koji

from adjutant.container.untrusted import UntrustedDir, private_dir
from adjutant.logs.fanout import TaskLog
from adjutant.rpm.header import read_rpm
from adjutant.worker.context import TaskContext


def take_results(ctx: TaskContext, builddir: Path, subdir: str, suffix: str,
                 task_log: TaskLog) -> list[Path]:
    """The regular files ``subdir/*suffix`` of a directory a build wrote, copied into the
    task's private ``results/<subdir>/`` without following any link. Anything else there
    (a link, a fifo, a device, a strange name) is named in ``task_log`` and fails the
    task: a build that leaves such things among its results is refused."""
    untrusted = UntrustedDir(builddir, task_log.line)
    taken = untrusted.collect(subdir, suffix, private_dir(ctx.workdir / "results" / subdir))
    if untrusted.refusals:
        raise koji.BuildError(
            "the build left results that are not regular files; refused, not read: "
            + "; ".join(str(r) for r in untrusted.refusals))
    return taken


def upload(ctx: TaskContext, files: Sequence[Path]) -> list[str]:
    """Upload files into the task's directory on the hub; their paths relative to
    ``work/``. They count among the task's results."""
    ctx.results.extend(str(f) for f in files)
    for path in files:
        ctx.session.uploadWrapper(str(path), ctx.uploadpath, path.name)
    return [f"{ctx.uploadpath}/{path.name}" for path in files]


def upload_logs(ctx: TaskContext) -> list[str]:
    """The logs to their end on the hub; their paths relative to ``work/``."""
    logs = ctx.logs.finish()
    ctx.results.extend(str(p) for p in logs)
    return [f"{ctx.uploadpath}/{p.name}" for p in logs]


def write_noarch_digests(ctx: TaskContext, rpms: Sequence[Path]) -> None:
    """``noarch_rpmdiff.json``: {task_id: {rpm file: digest}} for noarch RPMs.

    The hub uses equal digests only to skip its full rpmdiff of a noarch RPM built on
    several arches; unequal ones make it run the rpmdiff. kojid writes rpmdiff's own hash
    (which needs the rpm bindings); the payload digest is stricter, so it can only cost
    the hub a diff, never let differing packages through.
    """
    noarch = {p.name: read_rpm(p).payloadhash for p in rpms if p.name.endswith(".noarch.rpm")}
    if noarch:
        ctx.logs.path("noarch_rpmdiff.json").write_text(json.dumps({str(ctx.task_id): noarch}))
