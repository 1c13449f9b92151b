"""``adjutant policy explain``: which rule picks which image for a tag, arch and method."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, fail, plugins_from_args


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("policy", help="inspect the image policy")
    psub = p.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")
    e = psub.add_parser("explain", help="show the rule and image a task would get",
                        description="Resolve the image as a task would (site plugins, then "
                                    "the tag's hub policy, then the config default), reading "
                                    "the hub directly rather than through the cache.")
    e.add_argument("-c", "--config", type=Path, default=Path("/etc/kojid/kojid.conf"),
                   help="the worker's config (default: /etc/kojid/kojid.conf)")
    e.add_argument("--tag", required=True, help="build tag name")
    e.add_argument("--arch", required=True, help="buildroot arch, e.g. x86_64")
    e.add_argument("--method", default="buildArch", help="task method (default: buildArch)")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    add_plugin_options(e)
    e.set_defaults(func=explain)


def explain(args: argparse.Namespace) -> int:
    import koji

    from adjutant.config import ConfigError, load_config
    from adjutant.plugin import ImageRequest
    from adjutant.policy.errors import PolicyError, PolicyUnavailable
    from adjutant.policy.resolver import BYPASS_CACHE
    from adjutant.worker.session import session_options

    plugins = plugins_from_args(args)
    try:
        config = load_config(args.config, plugins.config_options())
    except ConfigError as exc:
        fail(str(exc), code=1)
    # Reading build configs needs no login: an anonymous session leaves the host's
    # exclusive lock alone.
    settings = config.settings(plugins)
    opts = {k: v for k, v in session_options(settings).items()
            if k not in ("user", "password", "cert")}
    session = koji.ClientSession(settings.server, opts)
    request = ImageRequest(method=args.method, arch=args.arch, tag=args.tag, session=session,
                           settings={**settings.adjutant_settings, BYPASS_CACHE: True})
    try:
        choice = plugins.resolve_image(request)
    except (PolicyError, PolicyUnavailable) as exc:
        fail(str(exc), code=1)
    except koji.GenericError as exc:
        fail(f"the hub refused: {exc}", code=1)
    if choice is None:
        from adjutant.plugin import ImageChoice

        choice = ImageChoice(settings.task_image_default, "config task_image_default")
    if args.json:
        print(json.dumps({"tag": args.tag, "arch": args.arch, "method": args.method,
                          "image": choice.image, "source": choice.source,
                          "rule": dict(choice.rule) if choice.rule else None}, indent=2))
        return 0
    print(f"tag:     {args.tag}\narch:    {args.arch}\nmethod:  {args.method}")
    print(f"matched: {choice.source}")
    print(f"image:   {choice.image}")
    return 0
