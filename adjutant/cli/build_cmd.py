"""``adjutant build``: build an SRPM or a spec in a container, no hub needed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, add_runtime_option, fail, plugins_from_args
from adjutant.cli.console import startup_done


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "build", help="build an SRPM or spec locally in a container",
        description="Rebuild an SRPM, or build a spec with the sources next to it, in a "
                    "container (unprivileged, network off). RPMs, SRPM and build.log go to "
                    "the output directory.",
    )
    p.add_argument("source", type=Path, help="a .src.rpm, or a .spec with its sources beside it")
    p.add_argument("-o", "--output", type=Path, default=Path("out"),
                   help="output directory (default: ./out)")
    p.add_argument("--image", default=None,
                   help="image to build in (default: the local adjutant buildroot image)")
    p.add_argument("--arch", dest="target_arch", default=None, help="rpmbuild --target arch")
    p.add_argument("-D", "--define", action="append", default=[], metavar="'NAME VALUE'",
                   help="define an rpm macro (repeatable)")
    p.add_argument("--srpm-only", action="store_true",
                   help="from a spec, build only the SRPM (rpmbuild -bs)")
    p.add_argument("--timeout", type=float, default=86400.0, help="build timeout in seconds")
    p.add_argument("--memory", type=_size, default=None, metavar="SIZE",
                   help="memory limit of the build container, e.g. 512M or 2G (bytes "
                        "without a suffix); default: none")
    p.add_argument("--pids", type=int, default=4096,
                   help="most processes the build may run at once (default: 4096)")
    p.add_argument("--pull", choices=("always", "if-not-present", "never"),
                   default="if-not-present", help="image pull policy")
    add_runtime_option(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def _size(text: str) -> int:
    from adjutant.build.sizes import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    from adjutant.build.local import LocalBuildError, LocalBuildRequest, build_locally
    from adjutant.build.rpmbuild import parse_defines
    from adjutant.container.errors import ContainerError
    from adjutant.container.spec import Limits
    from adjutant.engine import open_runtime
    from adjutant.image.availability import PullPolicy
    from adjutant.image.default import DEFAULT_IMAGE
    from adjutant.plugin.manager import PluginError

    try:
        macros = parse_defines(args.define)
    except ValueError as exc:
        fail(str(exc))
    try:
        plugins = plugins_from_args(args)
        runtime = open_runtime(plugins, args.runtime)
    except (PluginError, ContainerError) as exc:
        fail(str(exc))
    startup_done()
    request = LocalBuildRequest(
        source=args.source, output=args.output, image=args.image or DEFAULT_IMAGE,
        target_arch=args.target_arch, macros=macros, timeout=args.timeout,
        srpm_only=args.srpm_only, limits=Limits(memory_bytes=args.memory, pids=args.pids),
        pull_policy=PullPolicy.parse(args.pull),
    )
    try:
        result = build_locally(runtime, plugins, request)
    except LocalBuildError as exc:
        print(f"adjutant: build failed at step {exc.step}: {exc}", file=sys.stderr)
        return 1
    except ContainerError as exc:
        print(f"adjutant: build failed: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(f"built {args.source.name} with {runtime.name} in {request.image} "
          f"({result.duration:.1f}s)")
    for path in (*result.srpms, *result.rpms, result.log):
        print(f"  {path}")
    return 0
