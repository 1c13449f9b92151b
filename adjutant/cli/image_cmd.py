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
    b.add_argument("--arch", default=None,
                   help="build it for another arch (aarch64, ppc64le, s390x...), run under "
                        "qemu-user; the image is named ...:bookworm-ARCH")
    add_runtime_option(b)
    b.set_defaults(func=build_default)


def build_default(args: argparse.Namespace) -> int:
    from adjutant.container.errors import ContainerError
    from adjutant.container.platforms import UnknownArch
    from adjutant.engine import open_runtime
    from adjutant.image.default import ImageBuildError, default_image_ref, ensure_default_image
    from adjutant.plugin.manager import PluginError

    try:
        ref = default_image_ref(args.arch)
    except UnknownArch as exc:
        fail(str(exc))
    try:
        runtime = open_runtime(plugins_from_args(args), args.runtime)
        startup_done()  # building the rootfs can take minutes
        image_id = ensure_default_image(runtime, ref, force=args.force, mirror=args.mirror,
                                        arch=args.arch)
    except (PluginError, ContainerError, ImageBuildError) as exc:
        fail(str(exc), code=1)
    print(f"{ref} {image_id} ({runtime.name})")
    return 0
