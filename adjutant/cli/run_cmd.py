"""``adjutant run`` (and ``adjutantd``): serve a Koji hub as a build host, with kojid's
command line.

Every kojid option is accepted in kojid's spelling, so a unit file written for kojid works
with only the program changed (``adjutantd`` takes kojid's arguments exactly; ``adjutant
run`` takes the same after ``run``). Options that override kojid.conf do so; the rest do
what kojid's do, or say at start-up why they have no effect here.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, fail, plugins_from_args
from adjutant.cli.console import startup_done

#: kojid options that override the kojid.conf value of the same name.
CONFIG_OVERRIDES = ("user", "password", "server", "topdir", "topurl", "workdir", "maxjobs",
                    "minspace", "sleeptime", "admin_emails", "pluginpath", "mockdir",
                    "mockuser", "chroot_tmpdir")
#: kojid options that mean nothing here, and why (one warning each when given).
IGNORED_FLAGS = {
    "debug_mock": "--debug-mock is obsolete in kojid too",
    "pkgurl": "--pkgurl is obsolete in kojid too",
}


def add_kojid_options(p: argparse.ArgumentParser) -> None:
    """kojid's options, in kojid's spelling, plus adjutant's own."""
    p.add_argument("-c", "--config", type=Path, default=Path("/etc/kojid/kojid.conf"),
                   help="kojid.conf (default: /etc/kojid/kojid.conf)")
    p.add_argument("--adjutant-config", type=Path,
                   help="file of [adjutant] settings (default: adjutant.conf beside "
                        "kojid.conf, when present; kojid.conf's [adjutant] also works)")
    p.add_argument("--user", help="log in as this user (kojid's --user)")
    p.add_argument("--password", help="password of --user")
    p.add_argument("-f", "--fg", action="store_true",
                   help="run in the foreground, logging to stderr (else detach and log to "
                        "--logfile)")
    p.add_argument("--force-lock", action="store_true",
                   help="take the host's exclusive session even if another session holds it")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    p.add_argument("-d", "--debug", action="store_true", help="log at DEBUG level")
    p.add_argument("--debug-task", action="store_true", help="log task handlers at DEBUG")
    p.add_argument("--debug-xmlrpc", action="store_true", help="log every hub call")
    p.add_argument("--debug-mock", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--skip-main", action="store_true",
                   help="log in and check everything, then exit without serving")
    p.add_argument("--maxjobs", type=int, help="override [kojid] maxjobs")
    p.add_argument("--minspace", type=int, help="override [kojid] minspace (MB)")
    p.add_argument("--sleeptime", type=int, help="override [kojid] sleeptime (seconds)")
    p.add_argument("--admin-emails", metavar="EMAILS",
                   help="comma-separated addresses to mail errors to")
    p.add_argument("--topdir", help="override [kojid] topdir")
    p.add_argument("--topurl", help="override [kojid] topurl")
    p.add_argument("--workdir", help="override [kojid] workdir")
    p.add_argument("--chroot-tmpdir", help="accepted for kojid's unit files (no effect)")
    p.add_argument("--pluginpath", help="accepted for kojid's unit files (see 'plugins')")
    p.add_argument("--plugin", action="append", help="kojid builder plugin (not loaded: "
                   "adjutant's plugins are entry points)")
    p.add_argument("--mockdir", help="accepted for kojid's unit files (no effect)")
    p.add_argument("--mockuser", help="accepted for kojid's unit files (no effect)")
    p.add_argument("-s", "--server", help="override [kojid] server")
    p.add_argument("--pkgurl", help=argparse.SUPPRESS)
    p.add_argument("--logfile", type=Path, default=Path("/var/log/kojid.log"),
                   help="log file when not in the foreground (default: /var/log/kojid.log)")
    p.add_argument("--runtime", help="override [adjutant] runtime")
    p.add_argument("--once", action="store_true",
                   help="one pass of the loop, then exit (in the foreground, as --fg)")
    add_plugin_options(p)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="serve a Koji hub as a build host (kojid's replacement)",
        description="Log into the hub as a build host and run its tasks in containers. "
                    "Takes kojid's options.")
    add_kojid_options(p)
    p.set_defaults(func=run)


def kojid_parser() -> argparse.ArgumentParser:
    """``adjutantd``: kojid's command line exactly (no subcommand)."""
    p = argparse.ArgumentParser(
        prog="adjutantd", description="koji-adjutant's build daemon, with kojid's options "
                                      "(the same as 'adjutant run').")
    add_kojid_options(p)
    p.set_defaults(func=run)
    return p


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    values = {key: getattr(args, key) for key in CONFIG_OVERRIDES}
    values["runtime"] = args.runtime
    if args.plugin:
        values["plugin"] = args.plugin
    return values


def run(args: argparse.Namespace) -> int:
    import koji

    from adjutant.config import ConfigError, load_config
    from adjutant.container.errors import ContainerError
    from adjutant.plugin.manager import PluginError
    from adjutant.worker import logsetup
    from adjutant.worker.daemon import run_worker
    from adjutant.worker.emulation_check import EmulationUnavailable
    from adjutant.worker.session import LoginError

    log = logging.getLogger("adjutant.worker")
    args.fg = args.fg or args.once
    try:
        plugins = plugins_from_args(args)
        config = load_config(args.config, plugins.config_options(), overrides=_overrides(args),
                             adjutant_path=args.adjutant_config)
        settings = config.settings(plugins)
        try:
            logsetup.configure(logsetup.LogSettings(
                foreground=args.fg, logfile=args.logfile, log_level=settings.log_level,
                verbose=args.verbose, debug=args.debug, debug_task=args.debug_task,
                admin_emails=settings.admin_emails))
        except OSError as exc:
            fail(f"cannot open the log file {args.logfile}: {exc} (use --logfile, or --fg "
                 "to log to stderr)", code=1)
        for line in config.warnings:
            log.warning("%s", line)
        for flag, why in IGNORED_FLAGS.items():
            if getattr(args, flag):
                log.warning("%s", why)
        for flag in ("chroot_tmpdir", "mockdir", "mockuser", "pluginpath", "plugin"):
            if getattr(args, flag):
                log.warning("--%s has no effect in adjutant", flag.replace("_", "-"))
        plugins.runtime_provider(settings.runtime)
        for sink in settings.log_sinks:
            plugins.log_sink(sink)
        startup_done()
        return run_worker(config, plugins, force_lock=args.force_lock, once=args.once,
                          skip_main=args.skip_main, debug_xmlrpc=args.debug_xmlrpc,
                          detach=not args.fg)
    except (ConfigError, PluginError, LoginError, ContainerError, EmulationUnavailable) as exc:
        fail(str(exc), code=1)
    except koji.GenericError as exc:
        fail(f"the hub refused: {exc} (is this user a build host? see 'koji add-host')",
             code=1)
    except KeyboardInterrupt:
        print("adjutant: interrupted", file=sys.stderr)
        return 130
