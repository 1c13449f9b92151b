"""``adjutant build``: one rpmbuild in a container, no hub involved.

Rebuilds an SRPM (or builds a spec with the sources beside it) in the given image as the
unprivileged build user with the network off. RPMs, the SRPM and ``build.log`` land in the
output directory; the container is removed whatever happens.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adjutant.build.rpmbuild import (
    BUILD_ENV,
    BUILD_USER,
    BUILDDIR,
    INPUTDIR,
    explain_failure,
    rpmbuild_command,
)
from adjutant.build.sizes import format_size
from adjutant.container.run import run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Limits, Mount
from adjutant.container.untrusted import UntrustedDir
from adjutant.image.availability import PullPolicy, ensure_image
from adjutant.logs.fanout import TaskLog
from adjutant.plugin.manager import Plugins

BUILD_UID = 1000
LOCAL_LABEL = "io.koji-adjutant.local-build"


class LocalBuildError(Exception):
    """The build failed; ``step`` names where (``%build``, ``image``, ``input``...)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True)
class LocalBuildRequest:
    """What to build and how. ``source`` is a ``.src.rpm`` or a ``.spec``."""

    source: Path
    output: Path
    image: str
    target_arch: str | None = None
    macros: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = 86400.0
    limits: Limits = field(default_factory=lambda: Limits(pids=4096))
    pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT
    log_sinks: tuple[str, ...] = ("file",)
    srpm_only: bool = False
    #: Build in this directory and leave it (``--keep``); default: a temporary one.
    builddir: Path | None = None
    #: Added to the build's environment (a hub tag's ``rpm.env.*``).
    environment: Mapping[str, str] = field(default_factory=dict)
    #: The platform to run the build as (``linux/arm64``) when it is emulated.
    platform: str | None = None
    #: The id of ``image`` when the caller has just made sure of it: no lookup then (an
    #: image removed meanwhile fails the container's creation as ImageUnavailable).
    image_id: str | None = None


@dataclass(frozen=True)
class LocalBuildResult:
    rpms: list[Path]
    srpms: list[Path]
    log: Path
    image_id: str
    duration: float


def build_locally(runtime: ContainerRuntime, plugins: Plugins, request: LocalBuildRequest,
                  *, on_started: Callable[[], None] | None = None) -> LocalBuildResult:
    """Run the build; raise LocalBuildError (with the step and the log's tail) on failure.

    ``on_started`` is run once the build's container runs (see
    :func:`~adjutant.container.run.run_container`)."""
    started = time.monotonic()
    source = request.source.resolve()
    if not source.is_file():
        raise LocalBuildError("input", f"{request.source} does not exist or is not a file")
    if source.name.endswith(".src.rpm"):
        mounts = [Mount(source, f"{INPUTDIR}/{source.name}")]
        command = rpmbuild_command("rebuild", f"{INPUTDIR}/{source.name}",
                                   target_arch=request.target_arch, macros=request.macros)
    elif source.suffix == ".spec":
        mounts = [Mount(source.parent, INPUTDIR)]
        command = rpmbuild_command("bs" if request.srpm_only else "ba",
                                   f"{INPUTDIR}/{source.name}", sourcedir=INPUTDIR,
                                   target_arch=request.target_arch, macros=request.macros)
    else:
        raise LocalBuildError("input", f"{request.source}: expected a .src.rpm or a .spec")
    if request.srpm_only and source.suffix != ".spec":
        raise LocalBuildError("input", "--srpm-only needs a .spec as input")

    image_id = request.image_id or ensure_image(runtime, request.image, request.pull_policy)
    output = request.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    log_path = output / "build.log"
    log_path.unlink(missing_ok=True)
    if request.builddir is not None:
        workdir = request.builddir.resolve()
        shutil.rmtree(workdir, ignore_errors=True)  # a re-run starts from a clean dir
        workdir.mkdir(parents=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="adjutant-build-"))
    try:
        os.chown(workdir, BUILD_UID, BUILD_UID) if os.geteuid() == 0 else workdir.chmod(0o777)
        spec = ContainerSpec(
            image=request.image,
            command=command,
            environment={**BUILD_ENV, **request.environment},
            mounts=(*mounts, Mount(workdir, BUILDDIR, writable=True)),
            user=BUILD_USER,
            workdir=BUILDDIR,
            network=False,
            labels={LOCAL_LABEL: "true"},
            limits=request.limits,
            timeout=request.timeout,
            platform=request.platform,
        )
        with TaskLog.open(plugins, "build.log", request.log_sinks,
                          {"workdir": output, "task_id": "local"}) as build_log:
            build_log.line(f"adjutant: building {source.name} in {request.image} ({image_id})")
            if request.platform:
                build_log.line(f"adjutant: emulated build: the container runs as "
                               f"{request.platform} under qemu-user")
            result = run_container(runtime, spec, build_log.write_output, on_started=on_started)
            built = UntrustedDir(workdir, build_log.line)
            rpms: list[Path] = []
            srpms: list[Path] = []
            if result.ok:
                rpms = built.collect("RPMS", ".rpm", output)
                srpms = built.collect("SRPMS", ".src.rpm", output)
        if not result.ok:
            memory = request.limits.memory_bytes
            failure = explain_failure(
                log_path.read_text(errors="replace"), result.exit_code, result.timed_out,
                timeout=request.timeout, oom_killed=result.oom_killed,
                memory_limit=format_size(memory) if memory else None, memory_option="--memory")
            raise LocalBuildError(failure.step, failure.message())
        if built.refusals:
            for taken in (*rpms, *srpms):
                taken.unlink(missing_ok=True)
            raise LocalBuildError("results", "the build left results that are not regular "
                                  "files; refused, not copied: "
                                  + "; ".join(str(r) for r in built.refusals))
        if source.name.endswith(".src.rpm"):
            srpms = [_copy_input(source, output)]
        plugins.results_collected(
            {"id": None, "method": "localBuild", "arch": request.target_arch},
            [str(p) for p in (*rpms, *srpms, log_path)])
        return LocalBuildResult(rpms, srpms, log_path, image_id, time.monotonic() - started)
    finally:
        if request.builddir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _copy_input(source: Path, output: Path) -> Path:
    """The packager's own SRPM, copied beside the results (it is trusted: theirs)."""
    dest = output / source.name
    if source.resolve() != dest.resolve():
        shutil.copyfile(source, dest)
    return dest
