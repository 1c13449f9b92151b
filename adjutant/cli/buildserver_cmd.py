"""``adjutant build-server start|stop|status``: the warm process ``adjutant build`` uses."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Any

from adjutant.buildserver.control import DEFAULT_IDLE_TIMEOUT
from adjutant.cli.common import fail


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "build-server", help="start, stop or show the warm process that runs local builds",
        description="A build server loads adjutant, its plugins and the engine SDK once "
                    "and stays up; while it runs, 'adjutant build' hands it each build "
                    "(arguments, directory, environment, terminal) instead of loading "
                    "them again, which takes a Python start off every build. A build "
                    "that finds none starts one when it is done. One server "
                    "per user and virtualenv; its socket is in $XDG_RUNTIME_DIR/"
                    "koji-adjutant (else /tmp/koji-adjutant-UID), private to the user. "
                    "ADJUTANT_NO_BUILD_SERVER=1 makes a build run in its own process and "
                    "start no server.")
    ssub = p.add_subparsers(dest="server_command", required=True, metavar="SUBCOMMAND")
    start = ssub.add_parser("start", help="start the server (nothing when an up-to-date "
                                          "one runs)")
    start.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT,
                       metavar="SECONDS",
                       help="stop after this long with no build started or running (default: "
                            f"{DEFAULT_IDLE_TIMEOUT:g}; 0: never)")
    start.set_defaults(func=run_start)
    ssub.add_parser("stop", help="stop the server; builds it runs finish").set_defaults(
        func=run_stop)
    status = ssub.add_parser("status", help="whether a server runs, and what it has done")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=run_status)


def run_start(args: argparse.Namespace) -> int:
    from adjutant.buildserver.control import ControlError, start

    if args.idle_timeout < 0:
        fail("--idle-timeout must be 0 (never) or a number of seconds")
    try:
        state = start(args.idle_timeout)
    except ControlError as exc:
        fail(str(exc), code=1)
    print(f"build server pid {state['pid']} listening on {state['socket']}; "
          "'adjutant build' now runs in it")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from adjutant.buildserver.control import stop

    if not stop():
        print("adjutant: no build server is running", file=sys.stderr)
        return 1
    print("build server stopped")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from adjutant.buildserver.control import log_path, status

    state = status()
    if args.json:
        print(json.dumps(state))
        return 0 if state else 1
    if state is None:
        print("no build server is running ('adjutant build-server start' starts one)")
        return 1
    since = datetime.datetime.fromtimestamp(state["started"]).strftime("%Y-%m-%d %H:%M:%S")
    idle = (f"after {state['idle_timeout']:g} s idle" if state["idle_timeout"]
            else "only when told")
    print(f"build server pid {state['pid']} on {state['socket']}\n"
          f"  since {since}; builds served {state['served']}, running {state['running']}; "
          f"stops {idle}\n  log: {log_path()}")
    if state.get("stale"):
        print("  the installed code has changed since it started: it will refuse the next "
              "build and stop; 'adjutant build-server start' replaces it now")
    return 0
