"""The built-in buildroot cache plugin: answers the buildroot hook with a cached image on a
hit, with the closest cached buildroot of the request's family on a near miss (the
missing requirements are then installed on top of it, sharing its layers), and stores
freshly installed buildroots when they are ready.

Replace it with another ``adjutant_prepare_buildroot`` implementation (a non-``trylast``
one answers first), or switch it off with ``buildroot_cache_enabled = false``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adjutant.buildroot.cache import BuildrootCache, CacheEntry, cache_ref
from adjutant.buildroot.packages import entry_nvra
from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin import (
    BuildrootPackages,
    BuildrootPlan,
    BuildrootRequest,
    PreparedBuildroot,
    hookimpl,
)

log = logging.getLogger(__name__)


def cache_for(settings: Mapping[str, Any]) -> BuildrootCache | None:
    """The cache the settings describe, or None when it is switched off."""
    if not settings.get("buildroot_cache_enabled", True) or "cache_dir" not in settings:
        return None
    return BuildrootCache(Path(settings["cache_dir"]) / "buildroots")


@hookimpl(trylast=True)
def adjutant_prepare_buildroot(request: BuildrootRequest,
                               runtime: ContainerRuntime) -> BuildrootPlan | None:
    cache = cache_for(request.settings)
    if cache is None or request.repo_url is None:
        return None
    entry = cache.lookup(request.key, runtime)
    if entry is not None:
        return BuildrootPlan(
            image=entry.image, install=False,
            note=f"buildroot cache hit {request.key[:12]}: {entry.image} "
                 f"({len(entry.installed)} packages from repo {entry.repo_id}, used "
                 f"{entry.hits} time(s)); no dnf install",
            packages=_packages(entry), image_id=entry.image_id)
    near = cache.closest(request.family, request.packages, runtime)
    if near is None:
        return None
    missing = tuple(p for p in request.packages if p not in near.requirements)
    return BuildrootPlan(
        image=near.image, install=True,
        note=f"buildroot cache near miss {request.key[:12]}: starting from {near.image} "
             f"({len(near.installed)} packages from repo {near.repo_id}); installing only "
             f"{', '.join(missing)}",
        packages=_packages(near), requirements=missing, image_id=near.image_id)


def _packages(entry: CacheEntry) -> BuildrootPackages:
    return BuildrootPackages(tuple(entry.initial), tuple(entry.added),
                             tuple(entry.image_only))


@hookimpl
def adjutant_buildroot_ready(task: Mapping[str, Any], runtime: ContainerRuntime,
                             buildroot: PreparedBuildroot) -> None:
    request = buildroot.request
    cache = cache_for(request.settings)
    if cache is None or not buildroot.plan.install or request.repo_url is None:
        return
    ref = cache_ref(request.key, buildroot.image_id)
    runtime.tag_image(buildroot.image, ref)
    packages = buildroot.packages
    installed = sorted(entry_nvra(p) for p in (*packages.initial, *packages.added))
    now = time.time()
    size = runtime.image_size(ref) or 0
    parent = buildroot.plan.image if buildroot.plan.requirements is not None \
        else request.base_image
    parent_size = runtime.image_size(parent) or 0
    cache.store(CacheEntry(
        key=request.key, image=ref, image_id=buildroot.image_id, runtime=runtime.name,
        base_image=request.base_image, base_image_id=request.base_image_id,
        repo_id=request.repo_id, arch=request.arch, groups=list(request.groups),
        requirements=list(request.packages), installed=installed,
        initial=[dict(p) for p in packages.initial], added=[dict(p) for p in packages.added],
        image_only=list(packages.image_only), size=size, created=now, last_used=now,
        family=request.family, own_size=max(size - parent_size, 0),
        parent_id=(runtime.image_id(parent) or "") if parent != request.base_image else ""))
    max_size = request.settings.get("buildroot_cache_max_size")
    removed = cache.prune(runtime, request.settings.get("buildroot_cache_max_images"),
                          int(max_size) * 1024 * 1024 if max_size else None)
    for entry in removed:
        log.info("evicted cached buildroot %s (%s)", entry.image, entry.key[:12])
