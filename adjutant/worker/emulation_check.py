"""Start-up's check that the engine really runs each emulated arch.

For every arch of ``emulated_arches``: the qemu-user handler is registered as containers
need it (:func:`~adjutant.container.binfmt.handler_problem`), the arch's image is here
(built or pulled as a first task would), and a trivial container of that platform runs
and says it is that arch. Each failure names the arch and the fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adjutant.container.binfmt import handler_problem
from adjutant.container.errors import ContainerError
from adjutant.container.platforms import Platform, canonical, platform_of
from adjutant.container.run import run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Stream
from adjutant.image.availability import PullPolicy, ensure_image
from adjutant.image.default import ImageBuildError
from adjutant.policy.resolver import config_default
from adjutant.settings import WorkerSettings

log = logging.getLogger(__name__)

#: Bounds the probe container: an emulated ``uname`` starts in well under a second.
PROBE_TIMEOUT = 120.0


class EmulationUnavailable(Exception):
    """An arch of ``emulated_arches`` cannot run here; the message names each and its fix."""


@dataclass(frozen=True)
class ArchCheck:
    """One emulated arch's check: ``problem`` is None when it runs, else what and how."""

    platform: Platform
    image: str
    problem: str | None
    #: The probe could not run because the image is not here (and was not to be got).
    image_absent: bool = False


def probe(runtime: ContainerRuntime, image: str, platform: Platform) -> str | None:
    """Run ``uname -m`` in ``image`` as ``platform``: None when it answers that arch,
    else what went wrong."""
    output: list[bytes] = []

    def sink(stream: Stream, data: bytes) -> None:
        output.append(data)

    spec = ContainerSpec(image=image, command=("uname", "-m"), user="0:0",
                         timeout=PROBE_TIMEOUT, platform=platform.platform,
                         labels={"io.koji-adjutant.probe": platform.arch})
    try:
        result = run_container(runtime, spec, sink)
    except ContainerError as exc:
        return f"a {platform.platform} container of {image} could not run: {exc}"
    said = b"".join(output).decode(errors="replace").strip()
    if not result.ok:
        return (f"a {platform.platform} container of {image} failed (exit "
                f"{result.exit_code}{', timed out' if result.timed_out else ''}): "
                f"{said[-300:] or 'no output'}")
    if canonical(said) != platform.arch:
        return (f"a {platform.platform} container of {image} runs as {said!r}, not "
                f"{platform.arch}: the image is of another arch")
    return None


def check_arch(settings: WorkerSettings, runtime: ContainerRuntime, arch: str,
               obtain: bool = True) -> ArchCheck:
    """The check of one emulated arch (see the module). Without ``obtain`` the arch's
    image is only looked up, never built or pulled (``adjutant doctor``)."""
    platform = platform_of(arch)
    image = config_default(settings.adjutant_settings, arch, emulated=True).image
    problem = handler_problem(platform)
    if problem:
        return ArchCheck(platform, image, problem)
    try:
        if not obtain:
            if runtime.image_id(image) is None:
                return ArchCheck(platform, image, f"{platform.arch}: its image {image} is "
                                 "not here yet", image_absent=True)
        else:
            ensure_image(runtime, image, PullPolicy(settings.image_pull_policy),
                         float(settings.container_timeouts["pull"]), platform.platform)
    except (ContainerError, ImageBuildError) as exc:
        return ArchCheck(platform, image, f"{platform.arch}: its image {image} is not "
                         f"here: {exc}; build it (adjutant image build-default --arch "
                         f"{platform.arch}) or name another in [adjutant] "
                         f"task_image_default_{platform.arch}")
    problem = probe(runtime, image, platform)
    return ArchCheck(platform, image, f"{platform.arch}: {problem}" if problem else None)


def check_emulated_arches(settings: WorkerSettings, runtime: ContainerRuntime) \
        -> list[ArchCheck]:
    """Every emulated arch's check, in config order."""
    return [check_arch(settings, runtime, arch) for arch in settings.emulated_arches]


def require_emulated_arches(settings: WorkerSettings, runtime: ContainerRuntime) -> None:
    """Start-up: every emulated arch runs, or EmulationUnavailable naming each that does
    not with its fix (the host's arches on the hub include them, so the hub would hand
    this host tasks it cannot build)."""
    checks = check_emulated_arches(settings, runtime)
    failed = [c.problem for c in checks if c.problem]
    if failed:
        raise EmulationUnavailable(
            "emulated_arches lists arches this host cannot run:\n  " + "\n  ".join(failed)
            + "\n(or take them out of [adjutant] emulated_arches and the host's arches "
              "on the hub)")
    for check in checks:
        log.info("emulated arch %s runs (%s in %s)", check.platform.arch,
                 check.platform.platform, check.image)
