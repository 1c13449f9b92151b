"""``adjutant build``'s settings and buildroot source from its command line: the worker
config (``-c``) or defaults, the hub (``--profile`` or the config's ``server``), and what
to build against (``--repo``, ``--tag``/``-r``, ``--task``)."""

from __future__ import annotations

import argparse
from typing import Any

from adjutant.cli.common import fail
from adjutant.plugin.manager import Plugins
from adjutant.settings import WorkerSettings


def settings_for(args: argparse.Namespace, plugins: Plugins) -> WorkerSettings:
    """The option namespace of the build: ``-c``'s kojid.conf or the defaults, the hub of
    ``--profile``, and the command line's limits and cache dir."""
    from adjutant.build.localctx import local_settings
    from adjutant.config import ConfigError, load_config

    config = None
    if args.config is not None:
        try:
            config = load_config(args.config, plugins.config_options(), require_hub=False)
        except ConfigError as exc:
            fail(str(exc))
    overrides: dict[str, Any] = {
        "cache_dir": str(args.cache_dir) if args.cache_dir else None,
        "container_memory": args.memory, "container_pids": args.pids,
        "rpmbuild_timeout": int(args.timeout), "image_pull_policy": args.pull,
    }
    if args.profile is not None:
        # hubsource (and so koji) is imported only for a build that reads a hub.
        from adjutant.build.hubsource import HubSourceError, profile_endpoints

        try:
            hub = profile_endpoints(args.profile)
        except HubSourceError as exc:
            fail(str(exc))
        overrides.update(server=hub.server, topurl=hub.topurl, topdir=hub.topdir)
    return local_settings(plugins, config, overrides)


def hub_source(args: argparse.Namespace, settings: WorkerSettings) -> Any:
    """The BuildrootSource the options ask for; a usage error says what is missing."""
    from adjutant.build.packager import BuildrootSource

    if args.root is not None:
        if args.profile is None:
            fail("-r/--root is mock's spelling of --tag and needs --profile NAME (mock's "
                 "-r names a mock config; here it names a tag of the profile's hub)")
        if args.tag is not None and args.tag != args.root:
            fail(f"-r {args.root} and --tag {args.tag} disagree; give one")
        args.tag = args.root
    if args.tag is not None and args.task is not None:
        fail("--tag and --task both name what to build against; give one (--task takes "
             "the tag from the task)")
    groups = tuple(args.group) if args.group is not None else None
    if args.tag is None and args.task is None:
        if args.profile is not None:
            fail("--profile is for --tag or --task; give one of them")
        return BuildrootSource(repos=tuple(args.repo), groups=groups)
    if not settings.server:
        fail("--tag and --task read the hub: give --profile NAME (a koji client profile) "
             "or -c kojid.conf with its server")
    if not settings.topurl and not settings.topdir:
        fail("the hub's repos are read from topurl (or a mounted topdir): set topurl in "
             "the profile or kojid.conf")
    from adjutant.build.hubsource import HubSourceError, anonymous_session, for_tag, for_task

    session = anonymous_session(settings.server)
    try:
        hub = for_tag(session, args.tag) if args.tag is not None else \
            for_task(session, args.task)
    except HubSourceError as exc:
        fail(str(exc), code=1)
    except OSError as exc:
        fail(f"cannot reach the hub at {settings.server}: {exc}", code=1)
    return BuildrootSource(repos=tuple(args.repo), groups=groups, hub=hub, session=session)
