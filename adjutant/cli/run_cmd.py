"""``adjutant run``: serve a Koji hub as a build host, with kojid's command-line habits."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, fail, plugins_from_args
from adjutant.cli.console import startup_done


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="serve a Koji hub as a build host (kojid's replacement)",
        description="Log into the hub as a build host and run its tasks in containers.")
    p.add_argument("-c", "--config", type=Path, default=Path("/etc/kojid/kojid.conf"),
                   help="config file with [kojid] and [adjutant] sections "
                        "(default: /etc/kojid/kojid.conf)")
    p.add_argument("--fg", action="store_true",
                   help="run in the foreground (adjutant never daemonizes; kept for kojid's "
                        "service files)")
    p.add_argument("--force-lock", action="store_true",
                   help="take the host's exclusive session even if another session holds it")
    p.add_argument("--maxjobs", type=int, help="override [kojid] maxjobs")
    p.add_argument("--sleeptime", type=int, help="override [kojid] sleeptime (seconds)")
    p.add_argument("--runtime", help="override [adjutant] runtime")
    p.add_argument("--once", action="store_true", help="one pass of the loop, then exit")
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import koji

    from adjutant.config import ConfigError, load_config
    from adjutant.container.errors import ContainerError
    from adjutant.plugin.manager import PluginError
    from adjutant.worker.daemon import run_worker
    from adjutant.worker.session import LoginError

    if args.verbose or args.debug:
        logging.getLogger().setLevel(logging.DEBUG if args.debug else logging.INFO)
    try:
        plugins = plugins_from_args(args)
        config = load_config(args.config, plugins.config_options(), overrides={
            "maxjobs": args.maxjobs, "sleeptime": args.sleeptime, "runtime": args.runtime})
        plugins.runtime_provider(config.adjutant["runtime"])
        for sink in config.adjutant["log_sinks"]:
            plugins.log_sink(sink)
        startup_done()
        return run_worker(config, plugins, force_lock=args.force_lock, once=args.once)
    except (ConfigError, PluginError, LoginError, ContainerError) as exc:
        fail(str(exc), code=1)
    except koji.GenericError as exc:
        fail(f"the hub refused: {exc} (is this user a build host? see 'koji add-host')",
             code=1)
    except KeyboardInterrupt:
        print("adjutant: interrupted", file=sys.stderr)
        return 130
