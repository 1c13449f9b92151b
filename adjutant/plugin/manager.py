"""Finding, loading and calling plugins.

Built-in plugins are registered by name first; then stevedore loads the ``adjutant``
entry points. A plugin that fails to import or to register is recorded (entry point,
distribution, error) and the rest keep working, unless ``strict`` makes that fatal.
Allow and block lists pick what loads, in the spirit of pytest's ``-p no:NAME``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar, cast

import pluggy

from adjutant.buildroot.locks import KeyLock
from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin import hookspecs
from adjutant.plugin.types import (
    BuildrootPlan,
    BuildrootRequest,
    ConfigOption,
    ContainerRuntimeProvider,
    ImageChoice,
    ImageRequest,
    LogSinkProvider,
    PreparedBuildroot,
    ScmFetcher,
    TaskHandlerProvider,
)

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "adjutant"

#: Modules of the core that implement hooks, registered before any entry point.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("builtin-logsinks", "adjutant.logs.builtin"),
    ("builtin-buildroot-cache", "adjutant.buildroot.builtin"),
    ("builtin-image-policy", "adjutant.policy.resolver"),
)

_DISTS_LOCK = threading.Lock()


def plugin_distributions() -> dict[str, tuple[str | None, str | None]]:
    """Each ``adjutant`` entry point's distribution name and version.

    Read on first use only: it reads the metadata of every installed distribution, which
    a build need never pay for. Then kept for the life of the process, like the code it
    describes: what an upgrade puts on disk later is not what this process runs (a
    build server whose code changes on disk stops). A second thread asking while the
    first reads waits for it instead of reading them again.
    """
    with _DISTS_LOCK:
        return _read_plugin_distributions()


@functools.cache
def _read_plugin_distributions() -> dict[str, tuple[str | None, str | None]]:
    dists: dict[str, tuple[str | None, str | None]] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if dist is not None:
            dists[ep.name] = (dist.metadata["Name"], dist.version)
    return dists


_T = TypeVar("_T", ContainerRuntimeProvider, ScmFetcher, LogSinkProvider,
             TaskHandlerProvider)
_V = TypeVar("_V")


class PluginError(Exception):
    """A plugin problem the user must fix (strict loading, duplicate or unknown names)."""


@dataclass(frozen=True)
class LoadFailure:
    """A plugin that could not be loaded or registered, and why."""

    name: str
    distribution: str | None
    target: str
    error: str


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin as ``adjutant plugins`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    builtin: bool


@dataclass(frozen=True)
class LoadOptions:
    """Which plugins to load.

    ``allow`` (when non-empty) names the only entry points to load; ``block`` names entry
    points (or built-in plugin names) never to load; ``modules`` are plugin modules to
    load by import name without an entry point (pytest's ``-p MODULE``: a site's plugin
    under trial, or a test's); ``strict`` turns a load failure into a
    :class:`PluginError`; ``trace`` logs every hook call with its arguments and result.
    """

    allow: frozenset[str] = frozenset()
    block: frozenset[str] = frozenset()
    strict: bool = False
    trace: bool = False
    modules: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LoadOptions:
        """Read ``ADJUTANT_PLUGINS_ALLOW``/``_BLOCK``/``_LOAD`` (comma lists),
        ``ADJUTANT_PLUGINS_STRICT`` and ``ADJUTANT_TRACE_HOOKS``."""
        env = os.environ if environ is None else environ

        def names(key: str) -> frozenset[str]:
            return frozenset(n.strip() for n in env.get(key, "").split(",") if n.strip())

        def flag(key: str) -> bool:
            return env.get(key, "").strip().lower() in ("1", "true", "yes", "on")

        return cls(
            allow=names("ADJUTANT_PLUGINS_ALLOW"),
            block=names("ADJUTANT_PLUGINS_BLOCK"),
            strict=flag("ADJUTANT_PLUGINS_STRICT"),
            trace=flag("ADJUTANT_TRACE_HOOKS"),
            modules=tuple(sorted(names("ADJUTANT_PLUGINS_LOAD"))),
        )

    def merged(self, allow: Iterable[str] = (), block: Iterable[str] = (),
               strict: bool = False, trace: bool = False,
               modules: Iterable[str] = ()) -> LoadOptions:
        """These options with more names and switches added (config on top of environment)."""
        return LoadOptions(self.allow | frozenset(allow), self.block | frozenset(block),
                           self.strict or strict, self.trace or trace,
                           tuple(dict.fromkeys((*self.modules, *modules))))


@dataclass
class Plugins:
    """The loaded plugins: a typed facade over the pluggy manager's hooks."""

    pm: pluggy.PluginManager
    failures: list[LoadFailure] = field(default_factory=list)
    _builtin: set[str] = field(default_factory=set)

    @property
    def hook(self) -> Any:
        """pluggy's hook relay; core code calls hooks through the typed methods below."""
        return self.pm.hook

    # -- decision hooks (first non-None answer wins; errors propagate) -------------------

    def resolve_image(self, request: ImageRequest) -> ImageChoice | None:
        """``adjutant_resolve_image``: a site plugin's answer, else the hub policy's."""
        choice = self.pm.hook.adjutant_resolve_image(request=request)
        return cast("ImageChoice | None", choice)

    def prepare_buildroot(self, request: BuildrootRequest, runtime: ContainerRuntime,
                          lock: KeyLock) -> BuildrootPlan | None:
        """``adjutant_prepare_buildroot``; the core holds ``lock`` (the request key's)
        around the call, and offers it to implementations that need it again."""
        plan = self.pm.hook.adjutant_prepare_buildroot(request=request, runtime=runtime,
                                                       lock=lock)
        return cast("BuildrootPlan | None", plan)

    # -- observers (every implementation, in pluggy's order; failures contained) --------

    def task_started(self, task: Mapping[str, Any]) -> None:
        self._observe("adjutant_task_started", task=task)

    def task_finished(self, task: Mapping[str, Any], result: Any) -> None:
        self._observe("adjutant_task_finished", task=task, result=result)

    def task_failed(self, task: Mapping[str, Any], error: BaseException) -> None:
        self._observe("adjutant_task_failed", task=task, error=error)

    def buildroot_ready(self, task: Mapping[str, Any], runtime: ContainerRuntime,
                        buildroot: PreparedBuildroot) -> None:
        self._observe("adjutant_buildroot_ready", task=task, runtime=runtime,
                      buildroot=buildroot)

    def results_collected(self, task: Mapping[str, Any], files: Sequence[str]) -> None:
        self._observe("adjutant_results_collected", task=task, files=list(files))

    # -- registration look-ups ---------------------------------------------------------

    def runtimes(self) -> dict[str, ContainerRuntimeProvider]:
        """Every offered container runtime by name."""
        return self._registered("adjutant_container_runtimes", ContainerRuntimeProvider)

    def runtime_provider(self, name: str) -> ContainerRuntimeProvider:
        """The runtime called ``name``; the error lists the available ones."""
        return self._pick(self.runtimes(), name, "container runtime",
                          "install the plugin that provides it or pick another with --runtime")

    def scm_fetchers(self) -> dict[str, ScmFetcher]:
        return self._registered("adjutant_scm_fetchers", ScmFetcher)

    def scm_fetcher_for(self, scheme: str) -> ScmFetcher:
        """The fetcher handling URL scheme ``scheme``; the error lists the known schemes."""
        by_scheme = {s: f for f in self.scm_fetchers().values() for s in f.schemes}
        return self._pick(by_scheme, scheme, "SCM scheme",
                          "install a plugin that fetches it (git is built in)")

    def log_sinks(self) -> dict[str, LogSinkProvider]:
        return self._registered("adjutant_log_sinks", LogSinkProvider)

    def log_sink(self, name: str) -> LogSinkProvider:
        return self._pick(self.log_sinks(), name, "log sink", "check log_sinks in the config")

    def task_handlers(self, builtin: Iterable[str] = ()) -> dict[str, type[Any]]:
        """``adjutant_task_handlers``: every plugin-offered task method → its handler
        class. A method offered by two plugins, or also in ``builtin`` (the methods the
        core handles), is a :class:`PluginError` naming both."""
        core = frozenset(builtin)
        found: dict[str, type[Any]] = {}
        owner: dict[str, str] = {}
        for provider, plugin_name in self._providers("adjutant_task_handlers",
                                                     TaskHandlerProvider):
            for method, handler in provider.methods().items():
                if method in core:
                    raise PluginError(
                        f"task method {method!r} of {self._describe(plugin_name)} is "
                        "handled by the core already; a plugin may only add methods")
                if method in found and owner[method] != plugin_name:
                    raise PluginError(
                        f"task method {method!r} is offered by two plugins: "
                        f"{self._describe(owner[method])} and {self._describe(plugin_name)}; "
                        "block one of them (ADJUTANT_PLUGINS_BLOCK)")
                found[method] = handler
                owner[method] = plugin_name
        return found

    def config_options(self) -> list[ConfigOption]:
        """Every plugin-declared ``[adjutant]`` option, tagged with its plugin's name."""
        options: list[ConfigOption] = []
        for plugin_name, result in self._call_each("adjutant_config_options"):
            for opt in result or ():
                options.append(ConfigOption(opt.name, opt.default, opt.help, plugin_name))
        return options

    # -- introspection -----------------------------------------------------------------

    def infos(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution and the hooks it implements."""
        result = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            hooks = tuple(sorted(
                caller.name for caller in (self.pm.get_hookcallers(plugin) or ())
            ))
            dist, version = self.distribution(name)
            module = getattr(plugin, "__name__", type(plugin).__name__)
            result.append(PluginInfo(name, module, dist, version, hooks, name in self._builtin))
        return result

    # -- internals ---------------------------------------------------------------------

    def _observe(self, hook_name: str, **kwargs: Any) -> None:
        for _ in self._call_each(hook_name, **kwargs):
            pass

    def _call_each(self, hook_name: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call every implementation of a hook, in pluggy's order (``tryfirst`` first,
        ``trylast`` last) and through pluggy (so ``--trace-hooks`` shows each call), one
        plugin at a time so that one plugin's failure stays its own: it is logged and
        the others still run. A call the core got wrong (a missing argument) raises."""
        caller = getattr(self.pm.hook, hook_name)
        impls = list(reversed(caller.get_hookimpls()))
        for impl in impls:
            others = [i.plugin for i in impls if i is not impl]
            single = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            try:
                results = single(**kwargs)
            except pluggy.HookCallError:
                raise
            except Exception:
                log.exception("plugin %r failed in %s", impl.plugin_name, hook_name)
                continue
            yield impl.plugin_name, results[0] if results else None

    def _registered(self, hook_name: str, kind: type[_T]) -> dict[str, _T]:
        return {item.name: item for item, _plugin in self._providers(hook_name, kind)}

    def _providers(self, hook_name: str, kind: type[_T]) -> list[tuple[_T, str]]:
        """What a registration hook offers, each with its plugin's name; items that are
        not ``kind`` are logged and ignored; a name offered twice is a PluginError."""
        found: list[tuple[_T, str]] = []
        owner: dict[str, str] = {}
        for plugin_name, result in self._call_each(hook_name):
            for item in result or ():
                if not isinstance(item, kind):
                    log.error("plugin %r returned %r from %s, expected %s; ignored",
                              plugin_name, item, hook_name, kind.__name__)
                    continue
                if item.name in owner:
                    raise PluginError(
                        f"{kind.__name__} {item.name!r} is offered by two plugins: "
                        f"{self._describe(owner[item.name])} and {self._describe(plugin_name)}; "
                        f"block one of them (ADJUTANT_PLUGINS_BLOCK)"
                    )
                found.append((item, plugin_name))
                owner[item.name] = plugin_name
        return found

    def _describe(self, plugin_name: str) -> str:
        dist = self.distribution(plugin_name)[0]
        return f"{plugin_name!r} (from {dist})" if dist else repr(plugin_name)

    def distribution(self, plugin_name: str) -> tuple[str | None, str | None]:
        """Name and version of the distribution whose entry point provides the plugin.

        (None, None) for built-in and test plugins. See :func:`plugin_distributions`.
        """
        return plugin_distributions().get(plugin_name, (None, None))

    @staticmethod
    def _pick(choices: dict[str, _V], name: str, what: str, hint: str) -> _V:
        try:
            return choices[name]
        except KeyError:
            known = ", ".join(sorted(choices)) or "none"
            raise PluginError(f"unknown {what} {name!r}; available: {known} ({hint})") from None


def load_plugins(
    options: LoadOptions | None = None,
    extra: Sequence[tuple[str, ModuleType | object]] = (),
) -> Plugins:
    """Build the plugin manager: hookspecs, built-ins, entry points, then ``extra`` plugins.

    ``extra`` (name, plugin object) pairs are registered last; tests use it to add plugins
    without installing a distribution.
    """
    opts = options or LoadOptions.from_env()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins = Plugins(pm)

    for name, module_name in BUILTIN_PLUGINS:
        if name in opts.block:
            continue
        _register(plugins, name, functools.partial(importlib.import_module, module_name),
                  None, opts)
        plugins._builtin.add(name)

    _load_entry_points(plugins, opts)

    for module_name in opts.modules:
        if module_name not in opts.block:
            _register(plugins, module_name,
                      functools.partial(importlib.import_module, module_name), module_name,
                      opts)

    for name, obj in extra:
        _register(plugins, name, functools.partial(_identity, obj), None, opts)

    _reject_unknown_hooks(plugins, opts)
    if opts.trace:
        pm.trace.root.setwriter(lambda msg: log.info("hook: %s", msg.rstrip()))
        pm.enable_tracing()
    return plugins


def _reject_unknown_hooks(plugins: Plugins, opts: LoadOptions) -> None:
    """Unregister plugins implementing hooks that do not exist (usually a misspelling)."""
    bad: dict[str, list[str]] = {}
    for hook_name, caller in vars(plugins.pm.hook).items():
        if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                bad.setdefault(impl.plugin_name, []).append(hook_name)
    for plugin_name, hooks in bad.items():
        plugin = plugins.pm.get_plugin(plugin_name)
        if plugin is not None:
            plugins.pm.unregister(plugin)
        known = ", ".join(sorted(n for n in dir(hookspecs) if n.startswith("adjutant_")))
        err = PluginError(f"implements unknown hook(s) {', '.join(hooks)}; known hooks: {known}")
        _record_failure(plugins, plugin_name, plugin_name, err, opts)


def _load_entry_points(plugins: Plugins, opts: LoadOptions) -> None:
    from stevedore import NamedExtensionManager

    # A manager asked for no names loads nothing; it lists the group from stevedore's
    # on-disk entry-point cache instead of reading every installed distribution.
    wanted = []
    for name in NamedExtensionManager(ENTRY_POINT_GROUP, names=()).entry_points_names():
        if name in opts.block or (opts.allow and name not in opts.allow):
            log.debug("plugin %r skipped by allow/block lists", name)
            continue
        wanted.append(name)
    if not wanted:
        return

    def on_failure(_mgr: Any, ep: importlib.metadata.EntryPoint, err: BaseException) -> None:
        _record_failure(plugins, ep.name, ep.value, err, opts)

    manager = NamedExtensionManager(
        ENTRY_POINT_GROUP,
        names=wanted,
        name_order=True,
        on_load_failure_callback=on_failure,
        on_missing_entrypoints_callback=lambda names: None,
    )
    for ext in manager:
        _register(plugins, ext.name, functools.partial(_identity, ext.plugin),
                  ext.entry_point.value, opts)


def _identity(obj: object) -> object:
    return obj


def _register(
    plugins: Plugins,
    name: str,
    load: Callable[[], object],
    target: str | None,
    opts: LoadOptions,
) -> None:
    try:
        plugins.pm.register(load(), name=name)
    except Exception as err:
        _record_failure(plugins, name, target or name, err, opts)


def _record_failure(
    plugins: Plugins, name: str, target: str, err: BaseException, opts: LoadOptions
) -> None:
    dist = plugins.distribution(name)[0]
    failure = LoadFailure(name, dist, target, f"{type(err).__name__}: {err}")
    if opts.strict:
        raise PluginError(
            f"plugin {name!r} ({target}, distribution {dist}) failed to load: {failure.error}"
        ) from err
    log.warning("plugin %r (%s, distribution %s) failed to load: %s; continuing without it",
                name, target, dist, failure.error)
    plugins.failures.append(failure)
