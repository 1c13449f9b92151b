"""Pieces the subcommands share: plugin loading and runtime selection from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from adjutant.plugin.manager import LoadOptions, Plugins, load_plugins


def default_runtime() -> str:
    """The runtime a command uses when not told: $ADJUTANT_RUNTIME, else podman."""
    return os.environ.get("ADJUTANT_RUNTIME", "podman")


def add_runtime_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime", default=default_runtime(),
        help="container runtime plugin to use (default: $ADJUTANT_RUNTIME or podman)",
    )


def add_plugin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", dest="plugin_switches", action="append", default=[],
                        metavar="[no:]NAME", help="no:NAME: do not load plugin NAME; MODULE: "
                        "load the plugin module MODULE by import name (repeatable)")
    parser.add_argument("--strict-plugins", action="store_true",
                        help="fail when any plugin cannot be loaded")
    parser.add_argument("--trace-hooks", action="store_true", help="log every hook call")


def plugins_from_args(args: argparse.Namespace) -> Plugins:
    blocked, modules = [], []
    for switch in getattr(args, "plugin_switches", []):
        if switch.startswith("no:"):
            blocked.append(switch[3:])
        elif switch and not switch.startswith("-"):
            modules.append(switch)
        else:
            fail(f"-p {switch}: expected no:NAME or a module name")
    options = LoadOptions.from_env().merged(
        block=blocked, strict=getattr(args, "strict_plugins", False),
        trace=getattr(args, "trace_hooks", False), modules=modules,
    )
    return load_plugins(options)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"adjutant: error: {message}", file=sys.stderr)
    sys.exit(code)
