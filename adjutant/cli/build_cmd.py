"""``adjutant build``: build an SRPM or a spec in a container, no hub needed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, add_runtime_option


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "build", help="build an SRPM or spec locally in a container",
        description="Rebuild an SRPM, or build a spec with the sources next to it, in a "
                    "container (unprivileged, network off). RPMs, SRPM and build.log go to "
                    "the output directory. A build hands itself to this user's build "
                    "server when one runs, and starts one when none does, so that the "
                    "next builds skip Python's start-up (see 'adjutant build-server "
                    "--help'; ADJUTANT_NO_BUILD_SERVER=1: neither).",
    )
    p.add_argument("source", type=Path, help="a .src.rpm, or a .spec with its sources beside it")
    p.add_argument("--rebuild", action="store_true",
                   help="mock's spelling: rebuild the SRPM given (the default anyway)")
    p.add_argument("-o", "--output", "--resultdir", dest="output", type=Path,
                   default=Path("out"), help="output directory (default: ./out)")
    p.add_argument("--image", default=None,
                   help="image to build in (default: the local adjutant buildroot image; "
                        "with --tag, the image the tag's policy picks)")
    p.add_argument("--arch", dest="target_arch", default=None,
                   help="the arch to build for (rpmbuild --target); a foreign one "
                        "(aarch64 on x86_64) builds in that arch's image under qemu-user")
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
    deps = p.add_argument_group(
        "buildroot", "Install the build group and the SRPM's BuildRequires with dnf (as "
        "root, in a container) before building, as the worker does")
    deps.add_argument("--repo", action="append", default=[], metavar="URL|DIR",
                      help="a repo to install from: http(s):// or file:// URL, or a "
                           "directory (of RPMs, indexed on the fly); repeatable")
    deps.add_argument("--group", action="append", default=None, metavar="GROUP",
                      help="comps group to install (repeatable; default: build, when a "
                           "repo has comps)")
    deps.add_argument("--tag", default=None,
                      help="reproduce a hub build of TAG: its policy's image, current repo, "
                           "groups, rpm.macro.* and rpm.env.*")
    deps.add_argument("-r", "--root", dest="root", default=None, metavar="TAG",
                      help="mock's spelling of --tag (needs --profile)")
    deps.add_argument("--task", type=int, default=None, metavar="ID",
                      help="reproduce buildArch task ID: its image, repo and tag settings")
    deps.add_argument("--profile", default=None,
                      help="koji client profile of the hub (~/.koji/config, /etc/koji.conf); "
                           "anonymous")
    deps.add_argument("-c", "--config", type=Path, default=None, metavar="KOJID_CONF",
                      help="a worker's kojid.conf: its hub, macros and [adjutant] settings")
    deps.add_argument("--cache-dir", type=Path, default=None,
                      help="buildroot cache directory (default: the config's cache_dir, "
                           "else /var/cache/koji-adjutant as root, ~/.cache/koji-adjutant "
                           "otherwise)")
    debug = p.add_argument_group("debugging")
    debug.add_argument("--keep", action="store_true",
                       help="keep the buildroot image (named after the package) and the "
                            "build directory (OUTPUT/builddir) for 'adjutant shell'")
    debug.add_argument("--shell", action="store_true",
                       help="after the build (failed or not), open a shell in the "
                            "buildroot as the build user (implies --keep)")
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
    """Build as ``args`` say; the exit status. The build path loads only now."""
    from adjutant.cli.build_run import run as build

    return build(args)
