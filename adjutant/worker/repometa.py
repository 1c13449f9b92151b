"""A task's share of the host's repo metadata cache (``adjutant.buildroot.repometa``).

Before an install container runs, :func:`shared_metadata` makes sure this host has the
package manager's cache of the install's repos, filling it with one ``makecache``
container when no task has yet, and says how to hand it to the install container.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from adjutant.buildroot.repometa import METADATA_DIR, RepoMetadataCache
from adjutant.container.errors import ContainerError
from adjutant.container.run import run_container
from adjutant.container.spec import Mount
from adjutant.logs.fanout import TaskLog
from adjutant.worker.context import TaskContext
from adjutant.worker.steps.containers import container_spec


@dataclass(frozen=True)
class SharedMetadata:
    """What the install container gets: the entry, mounted read-only, and its variables."""

    mount: Mount
    environment: Mapping[str, str]


def shared_metadata(ctx: TaskContext, image: str, script: str, repo_file: str,
                    environment: Mapping[str, str], mounts: Sequence[Mount],
                    network: bool, immutable: bool, root_log: TaskLog) \
        -> SharedMetadata | None:
    """The host's metadata of the repos in ``repo_file`` for an install in ``image``
    by install.sh, mounted at ``script`` (``environment``, ``mounts`` and ``network``
    as the install container has them). None when the cache is off
    (``repo_metadata_cache_entries = 0``, or the buildroot cache is) or the fill failed:
    then the install reads the repos itself.

    ``immutable``: the koji repo is a Koji repo id, so its cached metadata never
    expires."""
    keep = ctx.settings.repo_metadata_cache_entries
    if keep <= 0 or not ctx.settings.buildroot_cache_enabled:
        return None
    cache = RepoMetadataCache(ctx.settings.cache_dir)
    key = cache.key(repo_file, f"{environment.get('ADJUTANT_PACKAGE_MANAGER', '')}\0"
                               f"{environment.get('ADJUTANT_PM_OPTS', '')}")
    with cache.lock(key):
        if not cache.ready(key):
            if not _fill(ctx, cache, key, image, script, environment, mounts, network, root_log):
                return None
            cache.prune(keep)
        cache.touch(key)
    env = {"ADJUTANT_REPO_CACHE": METADATA_DIR}
    if immutable:
        env["ADJUTANT_REPO_IMMUTABLE"] = "1"
    return SharedMetadata(Mount(cache.path(key), METADATA_DIR), env)


def _fill(ctx: TaskContext, cache: RepoMetadataCache, key: str, image: str, script: str,
          environment: Mapping[str, str], mounts: Sequence[Mount], network: bool,
          root_log: TaskLog) -> bool:
    entry = cache.empty_entry(key)
    root_log.line(f"buildroot: caching the repos' metadata on this host ({key[:12]})")
    spec = container_spec(
        ctx, image, ("sh", script, "--makecache", METADATA_DIR),
        user="0:0", environment=environment, network=network,
        network_mode=ctx.settings.install_network,
        timeout=float(ctx.settings.rpmbuild_timeout),
        mounts=(*mounts, Mount(Path(entry), METADATA_DIR, writable=True)))
    try:
        result = run_container(ctx.runtime, spec, root_log.write_output)
    except ContainerError as exc:
        why = str(exc)
    else:
        if result.ok:
            cache.mark_ready(key)
            return True
        why = f"exit status {result.exit_code}"
    cache.discard(key)
    root_log.line(f"buildroot: the repos' metadata could not be cached ({why}); the "
                  "install reads the repos itself")
    return False
