"""Run a fake hub by hand: ``python -m tests.support.fakehub --topdir DIR --port N``.

It prints the hub URL and topurl, creates the hosts and users asked for, and serves until
interrupted. Handy for demos and for poking at a worker with the ``koji`` CLI.
"""

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .hub import FakeHub


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fakehub",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--topdir", required=True, help="the hub's KojiDir (created)")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free)")
    parser.add_argument("--host", action="append", default=[], metavar="NAME:PASSWORD",
                        help="add a build host in channel default (repeatable)")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                        help="add an admin user (repeatable)")
    parser.add_argument("--arches", default="x86_64 noarch",
                        help="arches of the hosts added with --host")
    args = parser.parse_args(argv)

    hub = FakeHub(args.topdir, port=args.port)
    for spec in args.host:
        name, _, password = spec.partition(":")
        hub.add_host(name, arches=args.arches.split(), password=password or None)
    for spec in args.user:
        name, _, password = spec.partition(":")
        hub.add_admin(name, password or None)
    hub.start()
    print(f"server = {hub.url}")
    print(f"topurl = {hub.topurl}")
    print(f"topdir = {hub.topdir}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
