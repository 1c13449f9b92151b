"""What registration hooks return: frozen descriptions of a named capability.

A plugin offers a capability by returning one of these from its registration hook; config
and the command line then pick capabilities by ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from adjutant.container.runtime import EngineTimeouts as EngineTimeouts

if TYPE_CHECKING:
    from adjutant.container.runtime import ContainerRuntime


@dataclass(frozen=True)
class RuntimeSettings:
    """Settings a runtime factory receives: the ``[adjutant]`` config values as strings.

    ``may_start_services`` is False in task processes: an engine service they started
    would be their child, and killed with them when the task is cancelled.
    """

    options: Mapping[str, str] = field(default_factory=dict)
    may_start_services: bool = True
    timeouts: EngineTimeouts = field(default_factory=EngineTimeouts)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)


@dataclass(frozen=True)
class ContainerRuntimeProvider:
    """A container engine a plugin can drive.

    ``factory`` builds the runtime; it is called in the process that will use it and is
    where the engine SDK gets imported, so that merely loading the plugin stays cheap.
    """

    name: str
    factory: Callable[[RuntimeSettings], ContainerRuntime]
    description: str = ""


@dataclass(frozen=True)
class CheckoutResult:
    """A fetched source tree: its path (inside the checkout container) and the exact
    revision it is at (for git, the full commit id)."""

    path: str
    revision: str


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: str


class CommandRunner(Protocol):
    """Runs one command in the task's checkout container (network on, the checkout dir
    writable, the build user); its output goes to ``checkout.log`` and stdout is also
    returned."""

    def __call__(self, argv: Sequence[str], cwd: str) -> CommandResult: ...


class ScmFetch(Protocol):
    """Check out ``scm`` (koji's parsed SCM URL: ``scheme, user, host, repository, module,
    revision``) into ``dest`` with ``run``; raise an exception naming the failed step."""

    def __call__(self, scm: Mapping[str, Any], dest: str, run: CommandRunner) \
            -> CheckoutResult: ...


@dataclass(frozen=True)
class ScmFetcher:
    """A source fetcher for the URL schemes in ``schemes`` (``git``, ``git+https``, ...).

    ``fetch_common``, when the fetcher has one, checks out the ``common`` module of the
    URL's repository (kojid's ``use_common``, asked by ``allowed_scms``) into ``dest``,
    next to the checkout; the core links it as ``common`` beside the module dir. A
    fetcher without it fails such checkouts, naming the setting to change.
    """

    name: str
    schemes: tuple[str, ...]
    fetch: ScmFetch
    description: str = ""
    fetch_common: ScmFetch | None = None


class LogSink(Protocol):
    """Receives the lines of one named log (``build.log``, ``root.log``...) of one task."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class LogSinkProvider:
    """A log destination. ``factory(log_name, context)`` opens one sink per log."""

    name: str
    factory: Callable[[str, Mapping[str, Any]], LogSink]
    description: str = ""


@dataclass(frozen=True)
class ConfigOption:
    """A key a plugin adds to the ``[adjutant]`` config section, with its default."""

    name: str
    default: str
    help: str
    plugin: str = ""


@dataclass(frozen=True)
class ImageRequest:
    """What an image resolver is asked: which image should run this task?

    ``build_config`` is the tag's build config from the hub (``getBuildConfig``, with
    inheritance applied, at the repo's event) when the task has one, else None.
    ``session`` is the task's hub session (a ``koji.ClientSession``) or None for local
    builds. ``settings`` are the worker's ``[adjutant]`` config values. ``emulated``:
    the task's containers run as ``arch`` under qemu-user on a host of another arch, so
    the image must be of ``arch`` (the worker checks it before running anything).
    """

    method: str
    arch: str
    tag: str | None = None
    task_id: int | None = None
    build_config: Mapping[str, Any] | None = None
    session: Any = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    emulated: bool = False


@dataclass(frozen=True)
class ImageChoice:
    """A resolver's answer: the image and, for ``adjutant policy explain``, why it was chosen."""

    image: str
    source: str
    rule: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BuildrootRequest:
    """What buildroot preparation is asked for one task.

    ``repo_url`` is the tag's repo for the buildroot arch (None when there is no repo);
    ``groups`` the comps groups to install (``build`` or ``srpm-build``); ``packages``
    further requirements (an SRPM's BuildRequires, as ``name >= version`` strings);
    ``settings`` the worker's ``[adjutant]`` values; ``install_options`` what the build
    tag's ``mock.*`` settings ask of the install (``package_manager``, ``module_hotfixes``,
    ``best``, ``releasever``, ``module_setup``; see :mod:`adjutant.worker.tagsettings`);
    ``environment`` the tag's ``rpm.env.*``, which the install runs with too (as mock's
    package manager runs with its ``environment``).
    """

    base_image: str
    base_image_id: str
    arch: str
    repo_id: int | None
    repo_url: str | None
    groups: tuple[str, ...]
    packages: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    install_options: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What identifies the buildroot: base image id, repo (id and location, which names
        the hub), arch, groups, requirements, install options and environment.

        A repo id names immutable content, so equal keys resolve to the same installed
        package set: the key of a cached buildroot.
        """
        return self._digest(with_packages=True)

    @property
    def family(self) -> str:
        """The key without the requirements: buildroots of one family differ only in what
        was installed beyond the groups, so one can be prepared on top of another."""
        return self._digest(with_packages=False)

    def _digest(self, with_packages: bool) -> str:
        import hashlib
        import json

        data: dict[str, Any] = {"base": self.base_image_id, "repo": self.repo_id,
                                "url": self.repo_url, "arch": self.arch,
                                "groups": sorted(self.groups)}
        if with_packages:
            data["packages"] = sorted(self.packages)
        if self.install_options:  # absent when unset: the keys of plain tags stay as they were
            data["install"] = dict(self.install_options)
        if self.environment:
            data["environment"] = dict(self.environment)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class BuildrootPackages:
    """What a prepared buildroot holds, as the hub's buildroot listing wants it.

    ``initial`` came from the repo with the comps groups, ``added`` with the build
    requirements (both lists of hub listing entries); ``image_only`` names the packages
    the base image itself provides, which the hub does not know.
    """

    initial: tuple[Mapping[str, Any], ...] = ()
    added: tuple[Mapping[str, Any], ...] = ()
    image_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildrootPlan:
    """How to obtain the buildroot: run in ``image``; ``install`` says dnf work is needed.

    A cache plugin answers with a ready image, ``install=False`` and the ``packages`` it
    recorded when it stored that image. Or, for a near miss, with a prepared buildroot of
    the request's family (:attr:`BuildrootRequest.family`) to install into: ``install=True``,
    the ``packages`` that image holds, and ``requirements``, the ones it still lacks (no
    groups are installed then). ``requirements=None`` with ``install=True``: the groups
    and all requirements go into ``image``, the base image.

    ``image_id``: the id the plugin just found ``image`` to have in the engine, if it
    looked; the core then uses it instead of asking the engine again. An id that is gone
    by then fails the task as an absent image does.
    """

    image: str
    install: bool
    note: str = ""
    packages: BuildrootPackages | None = None
    requirements: tuple[str, ...] | None = None
    image_id: str | None = None


@dataclass(frozen=True)
class PreparedBuildroot:
    """A buildroot ready to build in (what ``adjutant_buildroot_ready`` observers see).

    ``image`` is the task's image (removed after the task unless a plugin tagged it);
    ``image_id`` its id.
    """

    request: BuildrootRequest
    plan: BuildrootPlan
    image: str
    image_id: str
    packages: BuildrootPackages


@dataclass(frozen=True)
class TaskHandlerProvider:
    """Koji task methods a plugin handles, the way the core handles its own.

    ``handlers`` are ``koji.tasks.BaseTaskHandler`` subclasses, normally of
    ``adjutant.plugin.tasks.ContainerTaskHandler`` (runs containers) or ``HubTaskHandler``
    (talks to the hub only); each names the methods it handles in its ``Methods`` list,
    as kojid's handlers do. A method can be offered by one plugin only, and never one the
    core handles.
    """

    name: str
    handlers: tuple[type[Any], ...]
    description: str = ""

    def __post_init__(self) -> None:
        for handler in self.handlers:
            methods = getattr(handler, "Methods", None)
            if not isinstance(handler, type) or not methods or \
                    not all(isinstance(m, str) and m for m in methods):
                raise TypeError(f"task handler provider {self.name!r}: {handler!r} must be a "
                                "task handler class with a non-empty Methods list of method "
                                "names")

    def methods(self) -> dict[str, type[Any]]:
        """Each offered method name → its handler class."""
        return {method: handler for handler in self.handlers for method in handler.Methods}
