"""The ``adjutant`` command. Each subcommand imports what it needs only when it runs,
so that ``adjutant plugins`` and ``adjutant build`` start in a fraction of a second."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from adjutant.cli import (
    build_cmd,
    buildserver_cmd,
    cache_cmd,
    doctor_cmd,
    image_cmd,
    plugins_cmd,
    policy_cmd,
    run_cmd,
    sbom_cmd,
    service_cmd,
    shell_cmd,
)

COMMANDS = (build_cmd, buildserver_cmd, shell_cmd, run_cmd, doctor_cmd, service_cmd,
            plugins_cmd, policy_cmd, cache_cmd, image_cmd, sbom_cmd)


def make_parser(commands: Sequence[ModuleType] = COMMANDS) -> argparse.ArgumentParser:
    """``adjutant``'s parser, with ``commands`` (modules with a ``register``) as its
    subcommands."""
    parser = argparse.ArgumentParser(
        prog="adjutant",
        description="A Koji build worker that builds each task in a podman or docker container.",
    )
    # Own names: a subcommand's -v/--debug (``run`` has kojid's) would overwrite these.
    parser.add_argument("-v", "--verbose", dest="top_verbose", action="store_true",
                        help="log progress")
    parser.add_argument("--debug", dest="top_debug", action="store_true",
                        help="log everything")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in commands:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None,
         parser: argparse.ArgumentParser | None = None) -> int:
    """Run a command line (``parser`` defaults to ``adjutant``'s); the exit status."""
    args = (parser or make_parser()).parse_args(argv)
    args.verbose = getattr(args, "verbose", False) or getattr(args, "top_verbose", False)
    args.debug = getattr(args, "debug", False) or getattr(args, "top_debug", False)
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("adjutant: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    from adjutant.cli.console import run

    run()
