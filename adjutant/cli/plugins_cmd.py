"""``adjutant plugins``: what is loaded, what each plugin implements, what failed."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from adjutant.cli.common import add_plugin_options, plugins_from_args


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "plugins", help="list plugins, their hooks and load failures")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plugins = plugins_from_args(args)
    infos = plugins.infos()
    if args.json:
        print(json.dumps({
            "plugins": [asdict(i) for i in infos],
            "failed": [asdict(f) for f in plugins.failures],
        }, indent=2))
        return 0
    for info in infos:
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        print(f"{info.name:22} {origin:28} {', '.join(info.hooks)}")
    for failure in plugins.failures:
        print(f"{failure.name:22} FAILED ({failure.distribution}, {failure.target}): "
              f"{failure.error}")
    return 0
