"""``adjutant shell``: an interactive shell in the buildroot a ``--keep`` build left."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adjutant.cli.common import add_plugin_options, add_runtime_option, fail, plugins_from_args


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "shell", help="a shell in the buildroot of a kept build",
        description="Open an interactive shell, as the build user with the network off, in "
                    "the buildroot image 'adjutant build --keep' left, with its build "
                    "directory mounted at /builddir. The container is removed when the "
                    "shell exits.")
    p.add_argument("-o", "--output", "--resultdir", dest="output", type=Path,
                   default=Path("out"), help="the kept build's output directory "
                                             "(default: ./out)")
    add_runtime_option(p)
    add_plugin_options(p)
    p.set_defaults(func=run, runtime=None)


def run(args: argparse.Namespace) -> int:
    from adjutant.build.packager import KeptBuild
    from adjutant.build.shell import ShellError, open_shell
    from adjutant.container.errors import ContainerError
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import PluginError

    try:
        kept = KeptBuild.read(args.output.resolve())
    except ValueError as exc:
        fail(str(exc), code=1)
    try:
        runtime = open_runtime(plugins_from_args(args), args.runtime or kept.runtime)
    except (PluginError, ContainerError) as exc:
        fail(str(exc))
    try:
        if runtime.image_id(kept.image_id) is None:
            fail(f"the kept buildroot image {kept.image} is no longer in {runtime.name}; "
                 "build again with --keep", code=1)
        return open_shell(runtime, kept.image_id, Path(kept.builddir))
    except (ShellError, ContainerError) as exc:
        fail(str(exc), code=1)
    finally:
        runtime.close()
