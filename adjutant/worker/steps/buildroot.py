"""Preparing the buildroot of a task and recording it on the hub."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from adjutant.logs.fanout import TaskLog
from adjutant.plugin.types import BuildrootPackages, BuildrootRequest
from adjutant.sbom.spdx import Origin
from adjutant.worker.buildroot import BuildrootPreparer, check_requirements, repo_access
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.context import TaskContext
from adjutant.worker.provenance import write_provenance
from adjutant.worker.steps.image import TaskImage
from adjutant.worker.tagsettings import tag_settings

# koji is imported where it is used: ``adjutant build`` loads this module and, with no
# hub, should not pay for koji's import (a tenth of a second).

@dataclass(frozen=True)
class Buildroot:
    """A prepared buildroot: the id of the image to build in (an id, not a name that could
    move), the packages in it, its record on the hub, and the repo its installed packages
    came from (None when nothing was installed)."""

    image_id: str
    packages: BuildrootPackages
    record: HubBuildroot
    repo: Origin | None = None


@contextmanager
def prepared_buildroot(ctx: TaskContext, image: TaskImage, record: HubBuildroot,
                       repo_id: int, groups: tuple[str, ...], requirements: Sequence[str],
                       root_log: TaskLog) -> Iterator[Buildroot]:
    """The task's buildroot while the block runs: the groups and ``requirements``
    installed from the tag's repo (``repo_id``) into ``image`` (or a cached or plugin's
    buildroot), listed on the hub and set BUILDING. After a block that ends normally the
    hub listing gets what was added for the build; the task's image name is released
    whatever happens (by the task's deferred cleanup). With ``buildroot_enabled`` off the
    image is used as it is. The build tag's ``mock.*`` settings shape the install; each
    is named in root.log."""
    write_provenance(root_log, image.choice, image.image_id, ctx.runtime.name)
    if ctx.emulation is not None:
        root_log.line(ctx.emulation.describe())
    settings = tag_settings(ctx.build_config)
    for note in settings.notes:
        root_log.line(note)
    preparer = BuildrootPreparer(ctx)
    try:
        if not ctx.settings.buildroot_enabled:
            root_log.line("buildroot_enabled is off: the image is used as it is (no dnf)")
            record.set_installed([])
            record.building()
            yield Buildroot(image.image_id, BuildrootPackages(), record)
            return
        check_requirements(requirements)
        assert ctx.tag is not None, "a buildroot needs the task's build tag"
        access = repo_access(ctx.settings, ctx.tag, repo_id, ctx.arch)
        request = BuildrootRequest(
            base_image=image.ref, base_image_id=image.image_id, arch=ctx.arch,
            repo_id=repo_id, repo_url=access.url, groups=groups,
            packages=tuple(requirements), settings=ctx.settings.adjutant_settings,
            install_options=settings.install, environment=settings.environment)
        prepared = preparer.prepare(request, access, root_log)
        record.set_installed(prepared.packages.initial)
        record.building()
        yield Buildroot(prepared.image_id, prepared.packages, record,
                        tag_repo_origin(ctx.settings.topurl, ctx.tag, repo_id, ctx.arch))
        record.add_installed(prepared.packages.added)
    finally:
        ctx.cleanup.defer("release the task's image name", preparer.release)


def tag_repo_origin(topurl: str | None, tag: str, repo_id: int, arch: str) -> Origin:
    """The SBOM's origin of the packages a tag's repo installed: its URL under topurl."""
    import koji

    url = f"{koji.PathInfo(topdir=topurl).repo(repo_id, tag)}/{arch}" if topurl else None
    return Origin("tag-repo", f"repo {repo_id} of tag {tag}", url)
