"""``adjutant build``'s work, once its arguments are parsed: everything a local build
loads is imported here, at the top, so that the build server loads it all by importing
this module (:func:`adjutant.cli.build_cmd.run` imports it only when a build runs)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from pathlib import Path
from typing import Any

from adjutant.build.local import LocalBuildError, LocalBuildRequest
from adjutant.build.packager import BuildFailed, build_for_packager, load_sbom_ahead
from adjutant.build.rpmbuild import parse_defines
from adjutant.build.termination import unwind_on_termination
from adjutant.cli.build_setup import hub_source, settings_for
from adjutant.cli.common import default_runtime, fail, plugins_from_args
from adjutant.cli.console import startup_done
from adjutant.cli.progress import PhaseProgress
from adjutant.container.errors import ContainerError
from adjutant.container.spec import Limits
from adjutant.engine import open_runtime
from adjutant.image.availability import PullPolicy
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.plugin.manager import LoadOptions, PluginError, load_plugins


def run(args: argparse.Namespace) -> int:
    """Build as ``args`` (``adjutant build``'s) say; the exit status."""
    unwind_on_termination()
    try:
        macros = parse_defines(args.define)
    except ValueError as exc:
        fail(str(exc))
    try:
        plugins = plugins_from_args(args)
        settings = settings_for(args, plugins)
        source = hub_source(args, settings)
        runtime = open_runtime(plugins, args.runtime,
                               {k: str(v) for k, v in settings.adjutant_settings.items()})
    except (PluginError, ContainerError) as exc:
        fail(str(exc))
    startup_done()
    request = LocalBuildRequest(
        source=args.source, output=args.output, image=args.image or DEFAULT_IMAGE,
        target_arch=args.target_arch, macros=macros, timeout=args.timeout,
        srpm_only=args.srpm_only, limits=Limits(memory_bytes=args.memory, pids=args.pids),
        pull_policy=PullPolicy.parse(args.pull),
    )
    progress = PhaseProgress()
    keep = args.keep or args.shell
    code = 0
    kept = None
    try:
        result = build_for_packager(runtime, plugins, request, settings, source, keep=keep,
                                    progress=progress)
        kept = result.kept
    except BuildFailed as exc:
        progress.failed(exc.step, "failed")
        print(f"adjutant: build failed at step {exc.step}: {exc}", file=sys.stderr)
        code, kept = 1, exc.kept
    except LocalBuildError as exc:
        print(f"adjutant: build failed at step {exc.step}: {exc}", file=sys.stderr)
        code = 1
    except ContainerError as exc:
        print(f"adjutant: build failed: {exc}", file=sys.stderr)
        code = 1
    if code == 0:
        _summary(args, runtime.name, result)
    if kept is not None:
        print(f"kept: buildroot image {kept.image}, build dir {kept.builddir}; "
              f"'adjutant shell -o {args.output}' opens a shell in it")
    try:
        if args.shell and kept is not None:
            from adjutant.build.shell import ShellError, open_shell

            try:
                open_shell(runtime, kept.image_id, Path(kept.builddir))
            except (ShellError, ContainerError) as exc:
                print(f"adjutant: no shell: {exc}", file=sys.stderr)
                code = code or 1
    finally:
        runtime.close()
    return code


def _summary(args: argparse.Namespace, runtime: str, result: Any) -> None:
    """Where the results and logs are, and what they were built in."""
    built = result.build
    print(f"built {args.source.name} with {runtime} in {result.image} "
          f"({built.duration:.1f}s)")
    if result.packages or result.cache_hit:
        print(f"buildroot: {result.packages} packages"
              + (" (from the buildroot cache)" if result.cache_hit else ""))
    for path in (*built.srpms, *built.rpms):
        print(f"  {path}")
    logs = sorted(built.log.parent.glob("*.log"))
    print(f"results in {built.log.parent}; logs: {', '.join(str(p) for p in logs)}")


#: What a build loads only once it gets there (a tag's or repo's buildroot, an SRPM's
#: header...; the SBOM's part is :func:`load_sbom_ahead`): a build in its own process does
#: not pay for the paths it does not take, but a build server loads them all at its start.
LOADED_ON_THE_WAY = (
    "adjutant.build.hubsource", "adjutant.container.platforms",
    "adjutant.policy.errors", "adjutant.policy.resolver", "adjutant.rpm.header",
    "adjutant.worker.buildroot", "adjutant.worker.macros", "adjutant.worker.provenance",
    "adjutant.worker.steps.image", "adjutant.worker.tagsettings", "koji",
)


def warm_up() -> None:
    """Load what a build loads, without building: the build server's start.

    This module's imports are the build path, and :data:`LOADED_ON_THE_WAY` and the
    SBOM's modules what it loads later; the plugins are loaded with their versions, and
    the default runtime ($ADJUTANT_RUNTIME, else podman) is opened and closed, which
    imports its SDK and the parts of it that only a first request loads. No engine
    service is started: an engine that does not answer now is the build's to report.
    """
    for name in LOADED_ON_THE_WAY:
        importlib.import_module(name)
    plugins = load_plugins(LoadOptions.from_env())
    plugins.config_options()
    load_sbom_ahead(plugins)
    with contextlib.suppress(PluginError, ContainerError):
        open_runtime(plugins, default_runtime(), may_start_services=False).close()
