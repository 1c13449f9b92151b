"""The ``adjutant`` console script: ``main`` with a cheaper interpreter start and exit.

Loading a command allocates a few hundred thousand long-lived objects (the modules of
pluggy, stevedore, requests and the engine SDK). Python's cyclic collector rescans them
again and again while they load, and once more at exit, which costs a short command
about 30 ms (``nox -s bench``). So collection is off while a command loads; a command
that goes on running (a build, the worker) calls :func:`startup_done`, which freezes
what loading allocated (never rescanned again, and shared untouched by forked task
processes) and turns collection back on for what follows. At exit everything is frozen,
so the interpreter's final collection has nothing to scan. That skips only the
finalizers of unreachable cycles, which Python never promises to run at exit: files are
closed explicitly, never left to a finalizer.
"""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False  # typing's own would cost every command typing's import
if TYPE_CHECKING:
    from collections.abc import Sequence


def startup_done() -> None:
    """Mark the end of loading: freeze what exists now and resume garbage collection.

    Idempotent; harmless when called outside the console script (e.g. from tests).
    """
    gc.freeze()
    gc.enable()


def run(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``adjutant`` script and of ``python -m adjutant.cli.main``.

    ``adjutant build`` goes to the user's build server when one runs (see
    :mod:`adjutant.buildserver`), before anything else is loaded. A build that found
    none runs here and then sets one off in the background, for the next build.
    """
    gc.disable()
    args = list(sys.argv[1:] if argv is None else argv)
    start_server = False
    if _servable(args):
        from adjutant.buildserver.client import OPT_OUT, offer

        handover = offer(args)
        if handover.code is not None:
            # Nothing here needs finalizing but the streams, and skipping the
            # interpreter's own shutdown saves 5-10 ms of every served build.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(handover.code)
        start_server = not handover.answered and not os.environ.get(OPT_OUT)
    from adjutant.cli.main import main

    try:
        code = main(args)
    finally:
        gc.freeze()
    # A build ran (built or failed; not a usage error or an interruption).
    if start_server and code in (0, 1):
        _start_build_server()
    sys.exit(code)


def _start_build_server() -> None:
    from adjutant.buildserver.client import OPT_OUT
    from adjutant.buildserver.control import (
        DEFAULT_IDLE_TIMEOUT,
        ControlError,
        log_path,
        start_in_background,
    )

    try:
        start_in_background(DEFAULT_IDLE_TIMEOUT)
    except ControlError as exc:
        print(f"adjutant: no build server started for the next builds: {exc} "
              f"({OPT_OUT}=1 stops trying)", file=sys.stderr)
        return
    print(f"adjutant: started a build server, so that the next builds skip Python's "
          f"start-up; it stops after {DEFAULT_IDLE_TIMEOUT / 60:g} minutes without a "
          f"build ('adjutant build-server stop' stops it now, {OPT_OUT}=1 keeps "
          f"builds in their own process; log: {log_path()})", file=sys.stderr)


def _servable(args: Sequence[str]) -> bool:
    """Whether a build server may run this command line: ``build``, except with
    ``--shell``, whose interactive shell needs this process's terminal and job control."""
    command = next((a for a in args if not a.startswith("-")), None)
    # argparse takes any unambiguous prefix of --shell ("--sh" and up) for it.
    shell = any(len(a) > 3 and "--shell".startswith(a.partition("=")[0]) for a in args)
    return command == "build" and not shell


def run_kojid(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``adjutantd``: kojid's command line, for kojid's unit files."""
    gc.disable()
    from adjutant.cli.main import main
    from adjutant.cli.run_cmd import kojid_parser

    try:
        code = main(argv, kojid_parser())
    finally:
        gc.freeze()
    sys.exit(code)
