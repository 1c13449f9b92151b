"""``adjutant image build-default``: build the local buildroot image from Debian packages."""

from __future__ import annotations

import argparse
from typing import Any

from adjutant.cli.common import add_runtime_option, fail, plugins_from_args
from adjutant.cli.console import startup_done


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("image", help="manage adjutant's own images")
    isub = p.add_subparsers(dest="image_command", required=True, metavar="SUBCOMMAND")
    b = isub.add_parser("build-default",
                        help="build the default buildroot image (quick when up to date)")
    b.add_argument("--force", action="store_true", help="rebuild even when up to date")
    b.add_argument("--mirror", default=None, help="Debian mirror (default: apt's)")
    add_runtime_option(b)
    b.set_defaults(func=build_default)


def build_default(args: argparse.Namespace) -> int:
    from adjutant.container.errors import ContainerError
    from adjutant.engine import open_runtime
    from adjutant.image.default import DEFAULT_IMAGE, ImageBuildError, ensure_default_image
    from adjutant.plugin.manager import PluginError

    try:
        runtime = open_runtime(plugins_from_args(args), args.runtime)
        startup_done()  # building the rootfs can take minutes
        image_id = ensure_default_image(runtime, force=args.force, mirror=args.mirror)
    except (PluginError, ContainerError, ImageBuildError) as exc:
        fail(str(exc), code=1)
    print(f"{DEFAULT_IMAGE} {image_id} ({runtime.name})")
    return 0
