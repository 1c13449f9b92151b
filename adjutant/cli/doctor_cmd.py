"""``adjutant doctor``: check what a build host needs, and say how to fix what is missing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, fail, plugins_from_args


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "doctor", help="check this build host's config, hub, engine and disks",
        description="Check, in order: the config parses; the hub answers; the host can log "
                    "in (without disturbing a running worker); it is enabled and in a "
                    "channel; the hub's topdir is mounted; workdir and the engine's storage "
                    "have minspace free; the engine answers; the default image is there; "
                    "the build tags' image policies parse. Each failure comes with its fix. "
                    "Exit status 1 when anything FAILed.")
    p.add_argument("-c", "--config", type=Path, default=Path("/etc/kojid/kojid.conf"),
                   help="the worker's config (default: /etc/kojid/kojid.conf)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds a hub call may take (default: 30)")
    add_plugin_options(p)
    p.set_defaults(func=doctor)


def doctor(args: argparse.Namespace) -> int:
    from adjutant.doctor import Doctor, Status, failed
    from adjutant.plugin.manager import PluginError

    try:
        plugins = plugins_from_args(args)
    except PluginError as exc:  # --strict-plugins and a plugin that did not load
        fail(str(exc), code=1)
    findings = Doctor(args.config, plugins, hub_timeout=args.timeout).run()
    bad = failed(findings)
    if args.json:
        print(json.dumps({"config": str(args.config), "ok": not bad,
                          "checks": [f.as_dict() for f in findings]}, indent=2))
    else:
        for finding in findings:
            print(finding.line())
        counts = {s: sum(f.status is s for f in findings) for s in Status}
        print(f"\n{counts[Status.OK]} ok, {counts[Status.WARN]} warn, "
              f"{counts[Status.FAIL]} FAIL, {counts[Status.SKIP]} skipped")
    return 1 if bad else 0
