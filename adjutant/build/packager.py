"""``adjutant build`` as a packager uses it: the SRPM's BuildRequires installed from
repositories (``--repo``) or from a hub tag's repo (``--tag``, ``--task``), then the
build, exactly as a worker runs it.

The phases are the worker's own steps over a local
:class:`~adjutant.worker.context.TaskContext` (:mod:`adjutant.build.localctx`): the image
(the tag's policy, or the image a hub task ran in), the buildroot (the core's
:class:`~adjutant.worker.buildroot.BuildrootPreparer`: dnf as root in a container, the
buildroot cache, the core's key lock), then rpmbuild as the build user with the network
off (:func:`adjutant.build.local.build_locally`) and the results. Each phase reports to a
:class:`Progress`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from adjutant.build.local import (
    LocalBuildError,
    LocalBuildRequest,
    LocalBuildResult,
    build_locally,
)
from adjutant.build.localctx import local_context
from adjutant.build.repos import LocalRepos, RepoError, local_repos
from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime
from adjutant.image.availability import PullPolicy, ensure_image
from adjutant.plugin.manager import Plugins
from adjutant.plugin.types import BuildrootPackages, ImageChoice, ImageRequest
from adjutant.settings import WorkerSettings
from adjutant.worker.emulation import Emulation, NotBuiltHere, emulation_for

if TYPE_CHECKING:  # hubsource imports koji, which a build with no hub need not load
    from adjutant.build.hubsource import HubBuild
    from adjutant.worker.context import TaskContext

log = logging.getLogger(__name__)

#: Where ``--keep`` leaves the buildroot image, under a name of the package's.
KEPT_REPO = "localhost/adjutant-kept-buildroot"
#: The state ``adjutant shell`` reads from the output directory.
STATE_FILE = ".adjutant-build.json"
#: The build directory a kept build leaves in the output directory.
KEPT_BUILDDIR = "builddir"


class Progress(Protocol):
    """Told when each phase (``image``, ``buildroot``, ``build``, ``results``) starts and
    how it ended."""

    def start(self, phase: str, text: str) -> None: ...

    def done(self, phase: str, text: str) -> None: ...


class NoProgress:
    def start(self, phase: str, text: str) -> None:
        pass

    def done(self, phase: str, text: str) -> None:
        pass


@dataclass(frozen=True)
class BuildrootSource:
    """Where the buildroot comes from: ``repos`` (``--repo``), a hub build (``--tag`` or
    ``--task``, with its anonymous ``session``), or neither (the image as it is).
    ``groups`` None means the default: ``build`` when a repo has comps (always for a hub
    tag)."""

    repos: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    hub: HubBuild | None = None
    session: Any = None

    @property
    def installs(self) -> bool:
        return bool(self.repos) or self.hub is not None


@dataclass(frozen=True)
class KeptBuild:
    """What ``--keep`` leaves for ``adjutant shell``: the buildroot image and the build
    directory, in the runtime that built them."""

    image: str
    image_id: str
    builddir: str
    runtime: str

    def write(self, output: Path) -> None:
        (output / STATE_FILE).write_text(json.dumps(dataclasses.asdict(self), indent=1))

    @classmethod
    def read(cls, output: Path) -> KeptBuild:
        """The kept build of ``output``; ValueError saying what to do when there is none."""
        try:
            data = json.loads((output / STATE_FILE).read_text())
            return cls(**{f.name: str(data[f.name]) for f in dataclasses.fields(cls)})
        except FileNotFoundError:
            raise ValueError(f"{output} holds no kept build; run 'adjutant build ... "
                             f"--keep -o {output}' first") from None
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{output / STATE_FILE} is not a kept build's record "
                             f"({exc}); build again with --keep") from None


@dataclass(frozen=True)
class PackagerResult:
    """The build's results; ``buildroot_image`` is the prepared image's id; ``cache_hit``
    when no dnf ran; ``kept`` what ``--keep`` left."""

    build: LocalBuildResult
    image: str
    buildroot_image: str
    packages: int
    cache_hit: bool
    kept: KeptBuild | None


class BuildFailed(LocalBuildError):
    """The build failed; ``kept`` is set when its buildroot was kept (``--keep``)."""

    def __init__(self, step: str, message: str, kept: KeptBuild | None) -> None:
        super().__init__(step, message)
        self.kept = kept


def build_for_packager(runtime: ContainerRuntime, plugins: Plugins,
                       request: LocalBuildRequest, settings: WorkerSettings,
                       source: BuildrootSource, keep: bool = False,
                       progress: Progress | None = None) -> PackagerResult:
    """Image, buildroot, build, results. Raises BuildFailed (a LocalBuildError) naming the
    phase that failed; with ``keep`` the buildroot image and build dir stay either way."""
    progress = progress or NoProgress()
    output = request.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="adjutant-buildroot-"))
    kept: KeptBuild | None = None
    preparer = None
    ctx: TaskContext | None = None
    try:
        srpm, requirements = _input(runtime, plugins, request, source, workdir, progress)
        hub = source.hub
        arch = _arch(hub, request.target_arch)
        emulation = _emulation(settings, arch)
        progress.start("image", "choosing the image")
        choice, image_id = _image(runtime, plugins, source, request, settings, arch,
                                  emulation)
        ctx = local_context(runtime, plugins, settings, workdir, output, arch,
                            tag=hub.tag if hub else None,
                            build_config=hub.build_config if hub else None,
                            session=source.session, emulation=emulation)
        if emulation is not None:
            _check_arch(ctx, choice, image_id)
        progress.done("image", f"{choice.image} ({image_id[:19]}), {choice.source}"
                      + (f"; {emulation.platform.platform} under qemu-user"
                         if emulation else ""))
        macros: dict[str, str] = {}
        if source.installs:
            from adjutant.worker.buildroot import BuildrootPreparer

            preparer = BuildrootPreparer(ctx)
            progress.start("buildroot", "installing the build group and BuildRequires")
            prepared = _prepare(ctx, preparer, source, choice, image_id, requirements,
                                workdir, progress)
            build_image, packages = prepared.image_id, \
                len(prepared.packages.initial) + len(prepared.packages.added)
            cache_hit = not prepared.plan.install
            progress.done("buildroot", f"{packages} packages "
                          + ("(cache hit: no dnf)" if cache_hit else
                             "(installed with dnf, cached)" if _caching(settings) else
                             "(installed with dnf)"))
        else:
            build_image, packages, cache_hit = image_id, 0, False
            progress.done("buildroot", "the image as it is (no --repo or --tag: "
                          "BuildRequires are not installed)")
        environment: Mapping[str, str] = {}
        if hub is not None:
            from adjutant.worker.macros import build_macros
            from adjutant.worker.tagsettings import tag_settings

            macros = build_macros(settings, hub.build_config, arch)
            environment = tag_settings(hub.build_config).environment
        installed = prepared.packages if source.installs else BuildrootPackages()

        def write_sbom(outputs: Sequence[Path]) -> None:
            from adjutant.build.sbom import repo_origin, write_local_sbom

            write_local_sbom(ctx, repo_origin(ctx, hub, source.repos), choice, image_id,
                             build_image, installed, srpm, outputs, output)

        builddir = output / KEPT_BUILDDIR if keep else None
        if keep:
            kept = _keep(runtime, build_image, srpm, builddir or output)
            kept.write(output)
        progress.start("build", f"rpmbuild of {srpm.name}")
        try:
            result = build_locally(runtime, plugins, dataclasses.replace(
                request, source=srpm, image=build_image, image_id=build_image,
                pull_policy=PullPolicy.NEVER,
                macros={**macros, **request.macros}, builddir=builddir,
                environment={**environment, **request.environment},
                target_arch=request.target_arch or (hub.target_arch if hub else None),
                platform=emulation.platform.platform if emulation else None,
                timeout=emulation.scaled(request.timeout) if emulation else request.timeout),
                on_started=lambda: load_sbom_ahead(plugins))
        except LocalBuildError as exc:
            write_sbom(())
            raise BuildFailed(exc.step, str(exc), kept) from None
        write_sbom([*result.rpms, *result.srpms])
        try:
            ctx.cleanup.finish()  # the SBOM's inventory container, when it took one
        except Exception as exc:
            raise BuildFailed("results", str(exc), kept) from None
        progress.done("build", f"{srpm.name} built")
        progress.done("results", f"{len(result.rpms)} RPMs, {len(result.srpms)} SRPM in "
                                 f"{output}")
        return PackagerResult(result, choice.image, build_image, packages, cache_hit, kept)
    except LocalBuildError:
        raise
    except (RepoError, ContainerError) as exc:
        raise BuildFailed("buildroot", str(exc), kept) from None
    except Exception as exc:
        import koji

        if isinstance(exc, koji.GenericError):
            raise BuildFailed("buildroot", str(exc), kept) from None
        raise
    finally:
        if ctx is not None:
            ctx.cleanup.finish(raise_errors=False)
        if preparer is not None:
            preparer.release()
        shutil.rmtree(workdir, ignore_errors=True)


def load_sbom_ahead(plugins: Plugins) -> None:
    """Load what ``buildroot.spdx.json`` needs while the build's container runs (and a
    build server at its start): its modules (some twenty, tens of ms) and the versions it
    names (every installed distribution's entry points), which would otherwise delay the
    container's start or follow its end. What fails here is only logged at debug level:
    writing the SBOM meets it again and reports it."""
    try:
        import adjutant.build.sbom  # noqa: F401  (the import is the work)
        from adjutant.sbom.facts import worker_tools

        worker_tools(plugins)
    except Exception:
        log.debug("loading the SBOM's modules and versions ahead failed", exc_info=True)


def _caching(settings: WorkerSettings) -> bool:
    return bool(settings.adjutant_settings.get("buildroot_cache_enabled", True))


def _arch(hub: HubBuild | None, target_arch: str | None) -> str:
    if hub is not None:
        from adjutant.build.hubsource import buildroot_arch

        return buildroot_arch(hub, target_arch)
    import os

    from adjutant.container.platforms import canonical

    return canonical(target_arch or os.uname().machine)


def _emulation(settings: WorkerSettings, arch: str) -> Emulation | None:
    try:
        return emulation_for(settings, arch, local=True)
    except NotBuiltHere as exc:
        raise LocalBuildError("image", str(exc)) from None


def _check_arch(ctx: Any, choice: ImageChoice, image_id: str) -> None:
    """An emulated build's image must be of its arch (the worker's own check)."""
    import koji

    from adjutant.worker.steps.image import TaskImage, check_image_arch

    try:
        check_image_arch(ctx, TaskImage(choice, image_id))
    except koji.BuildError as exc:
        raise LocalBuildError("image", str(exc)) from None


def _input(runtime: ContainerRuntime, plugins: Plugins, request: LocalBuildRequest,
           source: BuildrootSource, workdir: Path, progress: Progress) \
        -> tuple[Path, tuple[str, ...]]:
    """The SRPM to rebuild and its BuildRequires. A spec is first made into an SRPM in
    the base image (``rpmbuild -bs`` needs no BuildRequires), as mock does."""
    from adjutant.rpm.header import RpmHeaderError, read_rpm

    path = request.source.resolve()
    if not path.is_file():
        raise LocalBuildError("input", f"{request.source} does not exist or is not a file")
    if path.suffix == ".spec" and source.installs:
        progress.start("input", f"making the SRPM of {path.name}")
        made = build_locally(runtime, plugins, dataclasses.replace(
            request, output=workdir / "srpm", srpm_only=True))
        path = made.srpms[0]
        progress.done("input", f"{path.name} from {request.source.name}")
    if not path.name.endswith(".src.rpm"):
        return path, ()
    try:
        return path, read_rpm(path).requirements
    except (OSError, RpmHeaderError) as exc:
        raise LocalBuildError("input", f"{request.source}: not a readable SRPM: {exc}") \
            from None


def _image(runtime: ContainerRuntime, plugins: Plugins, source: BuildrootSource,
           request: LocalBuildRequest, settings: WorkerSettings, arch: str,
           emulation: Emulation | None) -> tuple[ImageChoice, str]:
    """The base image: the one a hub task ran in (by id when it is still here), the one
    the tag's policy picks, or ``--image`` / the default (of the arch, when emulated)."""
    hub = source.hub
    pull = float(settings.container_timeouts["pull"])
    platform = emulation.platform.platform if emulation else None
    if hub is not None and hub.image is not None:
        why = f"the image task {hub.task_id} ran in (its root.log)"
        if hub.image_id and runtime.image_id(hub.image_id) == hub.image_id:
            return ImageChoice(hub.image, why), hub.image_id
        found = ensure_image(runtime, hub.image, request.pull_policy, pull, platform)
        if hub.image_id and found != hub.image_id:
            why += f"; note: {hub.image} is now {found}, the task had {hub.image_id}"
        return ImageChoice(hub.image, why), found
    if hub is not None:
        from adjutant.policy.errors import PolicyError, PolicyUnavailable
        from adjutant.policy.resolver import config_default

        try:
            choice = plugins.resolve_image(ImageRequest(
                method="buildArch", arch=arch, tag=hub.tag, build_config=hub.build_config,
                session=source.session, settings=settings.adjutant_settings,
                emulated=emulation is not None))
        except (PolicyError, PolicyUnavailable) as exc:
            raise LocalBuildError("image", f"cannot choose the image of tag {hub.tag}: "
                                           f"{exc}") from None
        choice = choice or config_default(settings.adjutant_settings, arch,
                                          emulation is not None)
        return choice, ensure_image(runtime, choice.image, request.pull_policy, pull,
                                    platform)
    from adjutant.image.default import DEFAULT_IMAGE, default_image_ref

    if request.image != DEFAULT_IMAGE:
        choice = ImageChoice(request.image, "--image")
    elif emulation is not None:
        arch_image = settings.task_image_default_by_arch.get(emulation.platform.arch)
        choice = ImageChoice(arch_image, f"config task_image_default_{arch}") \
            if arch_image else ImageChoice(default_image_ref(arch), f"the {arch} default image")
    else:
        choice = ImageChoice(request.image, "the default image")
    return choice, ensure_image(runtime, choice.image, request.pull_policy, pull, platform)


def _prepare(ctx: Any, preparer: Any, source: BuildrootSource, choice: ImageChoice,
             image_id: str, requirements: Sequence[str], workdir: Path,
             progress: Progress) -> Any:
    """The buildroot, through the worker's preparer (cache, key lock, dnf as root)."""
    from adjutant.plugin.types import BuildrootRequest
    from adjutant.worker.buildroot import RepoAccess, check_requirements, repo_access
    from adjutant.worker.provenance import write_provenance

    check_requirements(requirements)
    repos = local_repos(ctx.runtime, source.repos, workdir,
                        lambda text: progress.start("buildroot", text)) \
        if source.repos else LocalRepos(())
    hub = source.hub
    if hub is not None:
        tag_repo = repo_access(ctx.settings, hub.tag, hub.repo_id, ctx.arch)
        access = dataclasses.replace(tag_repo, mounts=(*tag_repo.mounts, *repos.mounts),
                                     network=tag_repo.network or repos.network,
                                     more_urls=repos.urls)
        key_url = " ".join(filter(None, (tag_repo.url, repos.key_url)))
        groups = source.groups if source.groups is not None else ("build",)
    else:
        first, *rest = repos.repos
        access = RepoAccess(first.url, repos.mounts, repos.network, None,
                            tuple(r.url for r in rest))
        key_url = repos.key_url
        groups = source.groups if source.groups is not None else \
            (("build",) if repos.has_comps else ())
    from adjutant.worker.tagsettings import tag_settings

    tag = tag_settings(hub.build_config if hub else None)
    request = BuildrootRequest(
        base_image=choice.image, base_image_id=image_id, arch=ctx.arch,
        repo_id=hub.repo_id if hub else None, repo_url=key_url, groups=tuple(groups),
        packages=tuple(requirements), settings=ctx.settings.adjutant_settings,
        install_options=tag.install, environment=tag.environment)
    with ctx.logs.open("root.log") as root_log:
        write_provenance(root_log, choice, image_id, ctx.runtime.name)
        for note in tag.notes:
            root_log.line(note)
        if hub is not None:
            root_log.line(f"repo: {hub.repo_id} of tag {hub.tag} ({access.url})")
        for repo in repos.repos:
            root_log.line(f"repo: {repo.given} ({repo.url})")
        return preparer.prepare(request, access, root_log)


def _keep(runtime: ContainerRuntime, image_id: str, srpm: Path, builddir: Path) -> KeptBuild:
    """Name the buildroot image after the package (``--keep``), for ``adjutant shell``."""
    name = srpm.name.removesuffix(".src.rpm").removesuffix(".spec")
    tag = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "build"
    ref = f"{KEPT_REPO}:{tag}"
    runtime.tag_image(image_id, ref)
    return KeptBuild(ref, image_id, str(builddir), runtime.name)
