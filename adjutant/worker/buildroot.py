"""Preparing a task's buildroot: the tag's repo installed into the task image, as root,
then handed to the unprivileged build.

The plan comes from the ``adjutant_prepare_buildroot`` hook (the built-in cache answers
on a hit); with no answer, dnf installs the comps groups and the build requirements in a
container from the base image, and that container is committed as the task's image.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from adjutant.buildroot.locks import key_lock
from adjutant.buildroot.origins import (
    ExternalOrigin,
    external_origins,
    origin_href,
    parse_pkgorigins,
)
from adjutant.buildroot.packages import InstalledPackage, added, parse_rpm_list, parse_rpmlist
from adjutant.container.errors import ContainerError
from adjutant.container.run import run_container
from adjutant.container.spec import Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir
from adjutant.logs.fanout import TaskLog
from adjutant.plugin import (
    BuildrootPackages,
    BuildrootPlan,
    BuildrootRequest,
    PreparedBuildroot,
)
from adjutant.worker.context import TaskContext
from adjutant.worker.errors import build_error
from adjutant.worker.inventory import (
    INVENTORY_SCRIPT,
    inventory_store,
    read_inventory,
)
from adjutant.worker.repometa import shared_metadata
from adjutant.worker.scripts import staged_script
from adjutant.worker.steps.containers import container_spec

log = logging.getLogger(__name__)

TASK_IMAGE_REPO = "localhost/adjutant-task-buildroot"
INSTALL_SCRIPT = "/etc/adjutant/install.sh"
REPOS_DIR = "/etc/adjutant/repos"
LISTS_DIR = "/adjutant-lists"
#: What rpm needs as root to install packages (ownership, modes, file capabilities).
INSTALL_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETGID", "SETUID",
                        "SETFCAP")
_DNF_PROBLEM = re.compile(
    r"^.*(nothing provides|No match for argument|No matching package|Problem:|"
    r"conflicting requests|Error:|Failed to download|Cannot download|"
    r"has no dnf, yum or microdnf|\(mock\.package_manager\)).*$", re.MULTILINE)


@dataclass(frozen=True)
class RepoAccess:
    """How the buildroot reaches the tag's repo: a read-only mount of the hub's topdir
    where it is mounted on this host, else its URL under topurl (needs the network)."""

    url: str
    mounts: tuple[Mount, ...]
    network: bool
    local_dir: Path | None
    #: Further repos enabled beside it (``adjutant build --repo``), as dnf baseurls.
    more_urls: tuple[str, ...] = ()


def repo_access(options: Any, tag_name: str, repo_id: int, arch: str) -> RepoAccess:
    relative = f"repos/{tag_name}/{repo_id}/{arch}"
    topdir = Path(options.topdir)
    local = topdir / relative
    if (local / "repodata").is_dir():
        return RepoAccess(f"file://{local}", (Mount(topdir, str(topdir)),), False, local)
    return RepoAccess(f"{options.topurl.rstrip('/')}/{relative}", (), True, None)


def _repo_file(access: RepoAccess, relpath: str) -> bytes | None:
    """A file of the repo (``rpmlist.jsonl``, ``repodata/...``), or None if it has none."""
    if access.local_dir is not None:
        try:
            return (access.local_dir / relpath).read_bytes()
        except OSError:
            return None
    import requests

    try:
        response = requests.get(f"{access.url}/{relpath}", timeout=60)
    except requests.RequestException:
        return None
    return response.content if response.status_code == 200 else None


def _origin_href(repomd: bytes | None) -> str | None:
    try:
        return origin_href(repomd.decode()) if repomd else None
    except ValueError:
        return None


def _hub_rpm_ids(access: RepoAccess) -> dict[str, int]:
    """The hub's rpm ids for the repo's packages, so the listing names them exactly."""
    data = _repo_file(access, "rpmlist.jsonl")
    return parse_rpmlist(data.decode()) if data else {}


def _pkg_origins(access: RepoAccess, href: str | None) -> dict[str, str]:
    """N-V-R.A → origin URL from a merged repo's pkgorigins at ``href`` (None: not merged,
    nothing to read)."""
    data = _repo_file(access, href) if href else None
    if not data:
        return {}
    try:
        return parse_pkgorigins(gzip.decompress(data).decode(errors="replace"))
    except (OSError, EOFError):
        return {}


def repo_file(request: BuildrootRequest, url: str, proxy: str | None = None) -> str:
    """The dnf repo file of the tag's repo; ``proxy`` is kojid.conf's ``yum_proxy``;
    ``module_hotfixes`` when the tag sets ``mock.yum.module_hotfixes``."""
    text = (f"[koji]\nname=Koji repo {request.repo_id} ({request.arch})\n"
            f"baseurl={url}\nenabled=1\ngpgcheck=0\nskip_if_unavailable=False\n")
    if request.install_options.get("module_hotfixes") == "1":
        text += "module_hotfixes=1\n"
    return text + (f"proxy={proxy}\n" if proxy else "")


def install_environment(request: BuildrootRequest) -> dict[str, str]:
    """install.sh's environment: the tag's ``rpm.env.*``, then the variables that pass the
    tag's install options (checked values only: :func:`adjutant.worker.tagsettings.
    tag_settings` made them), which win over a tag variable of the same name."""
    options = request.install_options
    env: dict[str, str] = dict(request.environment)
    if "package_manager" in options:
        env["ADJUTANT_PACKAGE_MANAGER"] = options["package_manager"]
    pm_opts = []
    if "releasever" in options:
        pm_opts.append(f"--releasever={options['releasever']}")
    if options.get("best") == "1":
        pm_opts.append("--setopt=best=True")
    if pm_opts:
        env["ADJUTANT_PM_OPTS"] = " ".join(pm_opts)
    if "module_setup" in options:
        env["ADJUTANT_MODULE_SETUP"] = options["module_setup"]
    return env


def more_repo_files(urls: Sequence[str], proxy: str | None = None) -> str:
    """dnf repo sections for ``urls`` beside the tag's (``[more-1]``, ``[more-2]``...)."""
    return "".join(
        f"[more-{i}]\nname=Repo {i} ({url})\nbaseurl={url}\nenabled=1\ngpgcheck=0\n"
        f"skip_if_unavailable=False\n" + (f"proxy={proxy}\n" if proxy else "")
        for i, url in enumerate(urls, 1))


def task_image_ref(host: str, task_id: int) -> str:
    """The name a task's buildroot image has while the task runs."""
    return f"{TASK_IMAGE_REPO}:{host}-{task_id}"


def check_requirements(requirements: Sequence[str]) -> None:
    """BuildError for a requirement that is not a dependency: header strings reach dnf (as
    root) as arguments, where an option or a group/module selector would be an injection."""
    for requirement in requirements:
        if not requirement.strip() or requirement.startswith(("-", "@")) \
                or any(c in requirement for c in "\n\r\0"):
            raise build_error(f"refusing BuildRequires {requirement!r}: not a package "
                              "name or dependency")


def _layered(request: BuildrootRequest) -> bool:
    """Whether buildroots are prepared in layers: when the buildroot cache keeps them."""
    return bool(request.settings.get("buildroot_cache_enabled", True)) \
        and request.repo_url is not None


def default_plan(request: BuildrootRequest) -> BuildrootPlan:
    """What happens when no plugin answers the buildroot hook."""
    if request.repo_url is None:
        return BuildrootPlan(request.base_image, install=False,
                             note="no repo: the image is used as it is")
    return BuildrootPlan(request.base_image, install=True,
                         note=f"installing from repo {request.repo_id} ({request.repo_url})")


class BuildrootPreparer:
    """Prepares (and afterwards releases) the buildroot image of one task."""

    def __init__(self, ctx: TaskContext) -> None:
        self.ctx = ctx
        self.runtime = ctx.runtime
        self.task_image: str | None = None

    def prepare(self, request: BuildrootRequest, access: RepoAccess, root_log: TaskLog) \
            -> PreparedBuildroot:
        """Run the plan for ``request``; the result's packages go to the hub listing.

        With the buildroot cache on, a buildroot with requirements is prepared in two
        layers: the groups alone first (a buildroot of its own, which the cache keeps),
        then the requirements on top of it. Any later request of the same family then
        starts from that layer, or from a closer one, and installs only what it lacks."""
        prepared = self._prepare(request, access, root_log)
        if prepared.packages.image_only:
            root_log.line(f"left out of the hub's buildroot listing (provided by the image "
                          f"{request.base_image}, not by a Koji repo): "
                          f"{', '.join(prepared.packages.image_only)}")
        return prepared

    def _prepare(self, request: BuildrootRequest, access: RepoAccess, root_log: TaskLog) \
            -> PreparedBuildroot:
        with key_lock(request.settings["cache_dir"], request.key) as lock:
            plan = self.ctx.plugins.prepare_buildroot(request, self.runtime, lock) \
                or default_plan(request)
            if plan.install and plan.requirements is None and request.packages \
                    and _layered(request):
                root_log.line(f"buildroot: {plan.note}; the groups first, as a layer of "
                              "their own")
                group = self._prepare(replace(request, packages=()), access, root_log)
                # By id: the task's image name moves on to the layer about to be committed.
                plan = BuildrootPlan(
                    group.image_id, install=True, packages=group.packages,
                    requirements=request.packages,
                    note=f"installing the requirements on the groups' layer {group.image}")
            return self._run_plan(request, plan, access, root_log)

    def _run_plan(self, request: BuildrootRequest, plan: BuildrootPlan, access: RepoAccess,
                  root_log: TaskLog) -> PreparedBuildroot:
        ctx = self.ctx
        root_log.line(f"buildroot: {plan.note}")
        if plan.install:
            image, image_id, packages = self._install(request, plan, access, root_log)
        else:
            image = plan.image
            image_id = self._plan_image_id(plan)
            packages = plan.packages or BuildrootPackages()
            if image != request.base_image:
                # A name of the task's own keeps the image while the task uses it,
                # whatever a cache prune decides meanwhile.
                self.task_image = self._task_ref()
                self._tag_plan_image(plan, image_id, self.task_image)
        prepared = PreparedBuildroot(request, plan, image, image_id, packages)
        ctx.plugins.buildroot_ready(ctx.summary(), self.runtime, prepared)
        return prepared

    def _plan_image_id(self, plan: BuildrootPlan) -> str:
        """The plan's image id: as its plugin found it, or else as the engine answers."""
        image_id = plan.image_id or self.runtime.image_id(plan.image)
        if image_id is None:
            raise _absent(plan)
        return image_id

    def _tag_plan_image(self, plan: BuildrootPlan, image_id: str, ref: str) -> None:
        """Name ``image_id`` ``ref``; a plugin's id that is gone since is an absent image."""
        try:
            self.runtime.tag_image(image_id, ref)
        except ContainerError:
            if plan.image_id is not None and self.runtime.image_id(image_id) is None:
                raise _absent(plan) from None
            raise

    def release(self) -> None:
        """Remove the task's own image name (a cache keeps its own name for it)."""
        if self.task_image is not None:
            try:
                self.runtime.remove_image(self.task_image, force=False)
            except ContainerError:
                log.warning("could not remove the task image %s", self.task_image,
                            exc_info=True)
            self.task_image = None

    def _install(self, request: BuildrootRequest, plan: BuildrootPlan, access: RepoAccess,
                 root_log: TaskLog) -> tuple[str, str, BuildrootPackages]:
        """dnf in a container of the plan's image, committed as the task's image: the
        groups and requirements into the base image, or (a layer on a prepared buildroot)
        only the plan's requirements."""
        ctx = self.ctx
        on_layer = plan.requirements is not None
        start_id = self._plan_image_id(plan) if on_layer else request.base_image_id
        repos = ctx.subdir("buildroot/repos")
        lists = ctx.subdir("buildroot/lists")
        origins_href = _origin_href(_repo_file(access, "repodata/repomd.xml"))
        repo_text = (repo_file(request, access.url, ctx.settings.yum_proxy)
                     + more_repo_files(access.more_urls, ctx.settings.yum_proxy))
        (repos / "koji.repo").write_text(repo_text)
        environment = install_environment(request)
        if on_layer:
            environment.pop("ADJUTANT_MODULE_SETUP", None)  # done in the layer below
        groups = "" if on_layer else ",".join(request.groups)
        # A merged repo (the tag has external repos) needs the network either way:
        # dnf fetches external packages from their own repos' URLs.
        network = access.network or origins_href is not None
        repo_mounts = (*access.mounts,
                       Mount(staged_script(ctx.workdir, "install.sh"), INSTALL_SCRIPT),
                       Mount(repos, REPOS_DIR))
        metadata = shared_metadata(ctx, start_id, INSTALL_SCRIPT, repo_text, environment,
                                   repo_mounts, network, request.repo_id is not None,
                                   root_log)
        if metadata is not None:
            environment.update(metadata.environment)
        spec = container_spec(
            ctx,
            start_id,
            ("sh", INSTALL_SCRIPT, LISTS_DIR, groups,
             *(plan.requirements if plan.requirements is not None else request.packages)),
            user="0:0", environment=environment, network=network,
            network_mode=ctx.settings.install_network,
            capabilities=INSTALL_CAPABILITIES,
            timeout=float(ctx.settings.rpmbuild_timeout),
            mounts=(*repo_mounts,
                    Mount(staged_script(ctx.workdir, "inventory.sh"), INVENTORY_SCRIPT),
                    Mount(lists, LISTS_DIR, writable=True),
                    *((metadata.mount,) if metadata is not None else ())),
        )
        try:
            result = run_container(self.runtime, spec, root_log.write_output, keep=True)
        except ContainerError as exc:
            raise build_error(f"buildroot container failure: {exc}") from exc
        try:
            if not result.ok:
                raise self._install_failure(request, result.exit_code)
            ref = self._task_ref()
            image_id = self.runtime.commit(result.container_id, ref,
                                           {"io.koji-adjutant.buildroot-key": request.key})
            self.task_image = ref
        finally:
            self.runtime.remove(result.container_id)
        base, group, final = self._read_lists(lists, root_log)
        inventory_store(ctx.settings).put(
            image_id, read_inventory(UntrustedDir(lists, root_log.line)))
        ids = _hub_rpm_ids(access)
        external = self._external_origins(request, access, origins_href)
        if on_layer:
            initial, added_later = [], added(final, base)
        else:
            initial, added_later = added(group, base), added(final, group)

        def entry(p: InstalledPackage) -> dict[str, Any]:
            origin = external.get(p.nvra)
            if origin is not None:
                return p.external_entry(origin.repo_id, origin.name)
            return p.hub_entry(ids)

        # With the repo's rpmlist.jsonl, a package neither it nor the merge's origins
        # account for cannot be named to the hub (it would refuse the whole list): it is
        # left out and named in root.log, like the image's own packages. Without the file
        # (older hubs), every repo package is listed by N-V-R.A.
        unknown = [p for p in (*initial, *added_later)
                   if ids and p.nvra not in ids and p.nvra not in external]
        below = plan.packages if on_layer and plan.packages else BuildrootPackages()
        packages = BuildrootPackages(
            initial=(*below.initial, *(entry(p) for p in initial if p not in unknown)),
            added=(*below.added, *(entry(p) for p in added_later if p not in unknown)),
            image_only=below.image_only if on_layer else tuple(p.nvra for p in base))
        used = sorted(f"{p.nvra} ({external[p.nvra].name})"
                      for p in (*initial, *added_later) if p.nvra in external)
        if used:
            root_log.line(f"from external repos: {', '.join(used)}")
        if unknown:
            root_log.line("left out of the hub's buildroot listing (not in the repo's "
                          "rpmlist.jsonl, nor from an external repo of the tag): "
                          f"{', '.join(p.nvra for p in unknown)}")
        return ref, image_id, packages

    @staticmethod
    def _read_lists(lists: Path, root_log: TaskLog) \
            -> tuple[list[InstalledPackage], list[InstalledPackage], list[InstalledPackage]]:
        """The package lists the install container wrote (as root, with the repo's
        scriptlets run): read as hostile input, never through a link."""
        written = UntrustedDir(lists, root_log.line)
        try:
            return (parse_rpm_list(written.read_text("base.tsv")),
                    parse_rpm_list(written.read_text("group.tsv")),
                    parse_rpm_list(written.read_text("final.tsv")))
        except UnsafeFile as exc:
            written.refuse(exc.relpath, exc.reason)
            raise build_error(f"the buildroot's package list was refused: {exc}") \
                from None

    def _external_origins(self, request: BuildrootRequest, access: RepoAccess,
                          origins_href: str | None) -> dict[str, ExternalOrigin]:
        """The installed-from-repo packages that came from the tag's external repos, as
        of the repo's creation (nothing to look up when the repo was not merged)."""
        origins = _pkg_origins(access, origins_href)
        if not origins or self.ctx.session is None:
            # No hub (a local build): nothing is listed anywhere, so nothing to look up.
            return {}
        session = self.ctx.session
        repo = session.repoInfo(request.repo_id, strict=True)
        external_repos = session.getExternalRepoList(repo["tag_id"],
                                                     event=repo["create_event"])
        return external_origins(origins, external_repos, request.arch)

    def _task_ref(self) -> str:
        return task_image_ref(self.ctx.settings.host_name, self.ctx.task_id)

    def _install_failure(self, request: BuildrootRequest, exit_code: int) -> Exception:
        text = self.ctx.logs.path("root.log").read_text(errors="replace")
        problems = list(dict.fromkeys(m.strip() for m in _DNF_PROBLEM.findall(text)))
        tail = "\n".join(text.rstrip().splitlines()[-15:])
        summary = "\n".join(problems[-10:]) or f"the install exited with status {exit_code}"
        return build_error(
            f"buildroot installation from repo {request.repo_id} failed "
            f"(groups {', '.join(request.groups) or 'none'}; requirements "
            f"{', '.join(request.packages) or 'none'}):\n{summary}\n"
            f"--- last lines of root.log ---\n{tail}")


def _absent(plan: BuildrootPlan) -> Exception:
    return build_error(f"buildroot image {plan.image} of the plan ({plan.note}) is not "
                       "present")
