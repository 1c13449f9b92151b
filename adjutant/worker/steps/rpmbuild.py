"""rpmbuild in a prepared buildroot, as the unprivileged user with the network off."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import koji

from adjutant.build.rpmbuild import (
    BUILD_ENV,
    BUILD_USER,
    BUILDDIR,
    INPUTDIR,
    explain_failure,
    rpmbuild_command,
)
from adjutant.container.run import RunResult
from adjutant.container.spec import Mount
from adjutant.logs.fanout import TaskLog
from adjutant.worker import diskspace, failed
from adjutant.worker.context import TaskContext
from adjutant.worker.macros import build_macros
from adjutant.worker.steps.buildroot import Buildroot
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.tagsettings import tag_settings


@dataclass(frozen=True)
class BuildInput:
    """What rpmbuild reads: read-only ``mounts``, the input's ``path`` in the container
    (an SRPM or a spec) and, for a spec, the ``sourcedir`` holding its sources. Where the
    input came from, for the SBOM: the ``srpm`` on this host, or the ``scm_url`` and
    ``scm_commit`` of a checkout."""

    mounts: tuple[Mount, ...]
    path: str
    sourcedir: str | None = None
    srpm: Path | None = None
    scm_url: str | None = None
    scm_commit: str | None = None


def srpm_input(srpm: Path) -> BuildInput:
    """An SRPM on this host, mounted read-only as rpmbuild's input."""
    inside = f"{INPUTDIR}/{srpm.name}"
    return BuildInput((Mount(srpm, inside),), inside, srpm=srpm)


@dataclass(frozen=True)
class BuildRun:
    """How the build ended and where it wrote (``RPMS/``, ``SRPMS/``: untrusted)."""

    result: RunResult
    builddir: Path

    @property
    def ok(self) -> bool:
        return self.result.ok


def run_rpmbuild(ctx: TaskContext, buildroot: Buildroot, build_input: BuildInput, mode: str,
                 root_log: TaskLog, *, target_arch: str | None = None,
                 extra_args: Sequence[str] = ()) -> BuildRun:
    """rpmbuild ``mode`` (see :func:`adjutant.build.rpmbuild.rpmbuild_command`) with the
    hub's and config's macros and the tag's ``rpm.env.*`` in its environment, into
    ``build.log``, bounded by ``rpmbuild_timeout``. A failed build's buildroot is kept for
    ``failed_buildroot_lifetime``."""
    assert ctx.build_config is not None, "rpmbuild needs the task's build config"
    builddir = ctx.subdir("build", build_user=True)
    command = rpmbuild_command(
        mode, build_input.path, target_arch=target_arch, extra_args=extra_args,
        sourcedir=build_input.sourcedir,
        macros=build_macros(ctx.settings, ctx.build_config, ctx.arch))
    spec = container_spec(
        ctx, buildroot.image_id, command, user=BUILD_USER, workdir=BUILDDIR,
        environment=build_environment(ctx), timeout=float(ctx.settings.rpmbuild_timeout),
        mounts=(*build_input.mounts, Mount(builddir, BUILDDIR, writable=True)))
    with ctx.logs.open("build.log") as build_log:
        result = run_in_container(ctx, spec, build_log.write_output)
    if not result.ok:
        keep_failed_buildroot(ctx, buildroot.image_id, builddir, root_log)
    return BuildRun(result, builddir)


def build_environment(ctx: TaskContext) -> dict[str, str]:
    """The environment of commands run in the buildroot as the build: the base one, then
    the build tag's ``rpm.env.*`` (which win, as in mock's environment)."""
    return {**BUILD_ENV, **tag_settings(ctx.build_config).environment}


def build_failure(ctx: TaskContext, what: str, result: RunResult,
                  log_name: str = "build.log") -> koji.BuildError:
    """A BuildError naming the failing step (a phase, the timeout, the memory limit, a
    full disk), with the log's last lines."""
    text = ctx.logs.path(log_name).read_text(errors="replace")
    failure = explain_failure(text, result.exit_code, result.timed_out,
                              timeout=float(ctx.settings.rpmbuild_timeout),
                              oom_killed=result.oom_killed,
                              memory_limit=ctx.settings.container_memory)
    summary = failure.summary
    if failure.step == "disk":
        summary += f" ({diskspace.full_disk_detail(ctx.settings.workdir, ctx.settings.minspace)})"
    return koji.BuildError(f"{what}: {summary}\n--- last lines of {log_name} ---\n"
                           f"{failure.tail}")


def keep_failed_buildroot(ctx: TaskContext, image_id: str, builddir: Path,
                          root_log: TaskLog) -> None:
    """kojid's ``failed_buildroot_lifetime``: keep the buildroot image and build dir of a
    failed build for inspection; never when that would hold the space of a full disk."""
    s = ctx.settings
    lifetime = int(s.failed_buildroot_lifetime)
    if lifetime > 0 and (why := failed.reason_not_to_keep(
            s.workdir, s.minspace, ctx.logs.path("build.log"))):
        root_log.line(f"failed buildroot not kept (failed_buildroot_lifetime): {why}")
        return
    kept = failed.keep(ctx.runtime, s.workdir, s.host_name, ctx.task_id, image_id, builddir,
                       lifetime)
    if kept is not None:
        until = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(kept.expires))
        root_log.line(f"failed buildroot kept until {until} (failed_buildroot_lifetime): "
                      f"image {kept.image}, build dir {kept.builddir}")
