"""``adjutant cache list|prune``: the cached buildroot images of this worker host."""

from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adjutant.cli.common import fail, plugins_from_args

if TYPE_CHECKING:
    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.settings import WorkerSettings


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("cache", help="list or prune cached buildroots")
    csub = p.add_subparsers(dest="cache_command", required=True, metavar="SUBCOMMAND")
    for name, func, text in (("list", list_cache, "list cached buildroots, newest use first"),
                             ("prune", prune_cache, "evict cached buildroots")):
        c = csub.add_parser(name, help=text)
        c.add_argument("-c", "--config", type=Path, default=Path("/etc/kojid/kojid.conf"),
                       help="the worker's config, for cache_dir (default: "
                            "/etc/kojid/kojid.conf; without it, the local builds' cache)")
        c.add_argument("--cache-dir", type=Path, help="override [adjutant] cache_dir")
        c.set_defaults(func=func)
        if name == "list":
            c.add_argument("--json", action="store_true", help="machine-readable output")
        else:
            c.add_argument("--runtime", help="runtime whose cached images to prune (default: "
                                             "the config's)")
            c.add_argument("--all", action="store_true", help="evict every entry")
            c.add_argument("--max-images", type=int,
                           help="keep at most this many (default: buildroot_cache_max_images)")


def _cache(args: argparse.Namespace) -> tuple[BuildrootCache, WorkerSettings]:
    """The cache and the settings of the config; without a config file, those of a
    local build (so the cache ``adjutant build`` fills is the one listed)."""
    from adjutant.build.localctx import local_settings
    from adjutant.buildroot.cache import BuildrootCache
    from adjutant.config import ConfigError, load_config

    plugins = plugins_from_args(args)
    config = None
    if args.config.exists():
        try:
            config = load_config(args.config, plugins.config_options(), require_hub=False)
        except ConfigError as exc:
            fail(str(exc), code=1)
    overrides = {"cache_dir": str(args.cache_dir)} if args.cache_dir else None
    settings = local_settings(plugins, config, overrides)
    return BuildrootCache(Path(settings.cache_dir) / "buildroots"), settings


def list_cache(args: argparse.Namespace) -> int:
    cache, _ = _cache(args)
    entries = cache.entries()
    if args.json:
        print(json.dumps([dict(asdict(e), shared_size=e.shared_size) for e in entries],
                         indent=2))
        return 0
    if not entries:
        print(f"no cached buildroots in {cache.directory}")
        return 0
    by_image = {e.image_id: e for e in entries}
    print(f"{'KEY':13} {'RUNTIME':7} {'REPO':>6} {'PKGS':>5} {'SIZE':>9} {'OWN':>9} "
          f"{'SHARED':>9} {'ON':13} {'HITS':>5} {'LAST USED':19} IMAGE")
    for e in entries:
        used = datetime.datetime.fromtimestamp(e.last_used).strftime("%Y-%m-%d %H:%M:%S")
        parent = by_image.get(e.parent_id)
        on = parent.key[:12] if parent else ("(gone)" if e.parent_id else "base image")
        print(f"{e.key[:12]:13} {e.runtime:7} {e.repo_id!s:>6} {len(e.installed):>5} "
              f"{_mb(e.size)} {_mb(e.own_size)} {_mb(e.shared_size)} {on:13} {e.hits:>5} "
              f"{used:19} {e.image}")
    own = sum(e.own_size for e in entries)
    print(f"{len(entries)} cached buildroots: {own / 1e6:.1f} MB of their own layers "
          f"(SIZE counts the layers an image shares with the one it is ON, and with the "
          f"base image, again)")
    return 0


def _mb(size: int) -> str:
    return f"{size / 1e6:>7.1f}MB"


def prune_cache(args: argparse.Namespace) -> int:
    from adjutant.config import engine_timeouts
    from adjutant.container.errors import ContainerError
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import PluginError

    cache, settings = _cache(args)
    try:
        runtime = open_runtime(settings.plugins, args.runtime or settings.runtime,
                               settings.plugin_options,
                               timeouts=engine_timeouts(settings.container_timeouts))
    except (PluginError, ContainerError) as exc:
        fail(str(exc), code=1)
    max_images = 0 if args.all else (args.max_images if args.max_images is not None
                                     else settings.buildroot_cache_max_images)
    removed = cache.prune(runtime, max_images=max_images,
                          max_bytes=settings.buildroot_cache_max_size * 1024 * 1024)
    for entry in removed:
        print(f"evicted {entry.key[:12]} {entry.image}")
    print(f"{len(removed)} evicted, {len(cache.entries())} kept")
    runtime.close()
    return 0
