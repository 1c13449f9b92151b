"""The hooks adjutant calls. Plugin authors implement them with ``adjutant.plugin.hookimpl``.

Order of hook calls for one task (buildArch as the example)::

    adjutant_config_options()                   once, when the config is read
    adjutant_container_runtimes()               once, to find the configured runtime
    adjutant_log_sinks()                        once, to open the configured log sinks
    adjutant_task_handlers()                    once, when the worker starts: extra methods
    adjutant_task_started(task)                 observer
    adjutant_resolve_image(request)             first non-None answer wins
    adjutant_prepare_buildroot(request, runtime)  first non-None answer wins
    adjutant_buildroot_ready(task, runtime, buildroot)  observer (may cache it)
    adjutant_results_collected(task, files)     observer
    adjutant_task_finished(task, result)        observer, on success
    adjutant_task_failed(task, error)           observer, on failure instead

``adjutant_scm_fetchers()`` is called by buildSRPMFromSCM before the checkout.

Registration hooks return a list of frozen dataclasses (``ContainerRuntimeProvider``,
``ScmFetcher``, ``LogSinkProvider``, ``TaskHandlerProvider``); two plugins offering the
same name (for task handlers: the same task method) is an error that names both.
Observer hooks are called on every plugin; an observer that raises is logged and never
fails the build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pluggy

from adjutant.buildroot.locks import KeyLock
from adjutant.container.runtime import ContainerRuntime
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

PROJECT = "adjutant"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- registration --------------------------------------------------------------------------


@hookspec
def adjutant_container_runtimes() -> Sequence[ContainerRuntimeProvider]:
    """Offer container runtimes.

    :return: the runtimes this plugin provides; config's ``runtime`` key picks one by name.

    Example::

        from adjutant.plugin import ContainerRuntimeProvider, hookimpl

        @hookimpl
        def adjutant_container_runtimes():
            def factory(settings):
                from my_engine_runtime import MyRuntime   # heavy SDK import happens here
                return MyRuntime(url=settings.get("my_engine_url"))
            return [ContainerRuntimeProvider(name="my-engine", factory=factory)]
    """
    raise NotImplementedError


@hookspec
def adjutant_scm_fetchers() -> Sequence[ScmFetcher]:
    """Offer source fetchers for SCM URL schemes (buildSRPMFromSCM).

    :return: fetchers, each naming the schemes it handles.

    ``fetch(scm, dest, run)`` gets koji's parsed SCM URL and runs its commands through
    ``run(argv, cwd)``, inside a container with the network on, never on the host. The
    optional ``fetch_common(scm, dest, run)`` (same contract) checks out the repository's
    ``common`` module when ``allowed_scms`` says ``use_common``; without it such a
    checkout fails, naming the setting.

    Example::

        @hookimpl
        def adjutant_scm_fetchers():
            def fetch(scm, dest, run):
                url = f"https://{scm['host']}{scm['repository']}"
                if run(["hg", "clone", "-u", scm["revision"], url, dest], cwd="/").exit_code:
                    raise RuntimeError("hg clone failed; see checkout.log")
                node = run(["hg", "id", "-i", "--debug"], cwd=dest).stdout.strip()
                return CheckoutResult(path=dest, revision=node)
            return [ScmFetcher(name="hg", schemes=("hg+https",), fetch=fetch)]
    """
    raise NotImplementedError


@hookspec
def adjutant_log_sinks() -> Sequence[LogSinkProvider]:
    """Offer log destinations; config's ``log_sinks`` lists which ones every log goes to.

    :return: sink providers. ``factory(log_name, context)`` is called once per log of a
        task (``context`` holds ``task_id`` and ``workdir``) and returns an object with
        ``write(bytes)`` and ``close()``. ``write`` may block to apply back-pressure; it must
        never drop data.

    Example::

        @hookimpl
        def adjutant_log_sinks():
            class Syslog:
                def __init__(self, name, context): self.name = name
                def write(self, data): syslog.syslog(data.decode(errors="replace"))
                def close(self): pass
            return [LogSinkProvider(name="syslog", factory=Syslog)]
    """
    raise NotImplementedError


@hookspec
def adjutant_task_handlers() -> Sequence[TaskHandlerProvider]:
    """Offer handlers for Koji task methods the core does not handle (``runroot``, a
    site's own method...). ``adjutant run`` registers them next to the built-in handlers,
    so the worker takes those tasks from the hub instead of refusing them.

    :return: providers, each with the handler classes it offers. A handler is a
        ``koji.tasks.BaseTaskHandler`` subclass naming its methods in ``Methods``;
        subclass ``adjutant.plugin.tasks.ContainerTaskHandler`` to run containers (it
        gives ``self.context(arch, build_config)`` and the steps of
        ``adjutant.plugin.tasks``) or ``HubTaskHandler`` for hub-only work. ``handler()``
        takes the task's parameters and returns its result, as in kojid. A method offered
        by two plugins, or one the core handles, stops the worker with an error naming
        both.

    Example::

        from adjutant.plugin import TaskHandlerProvider, hookimpl
        from adjutant.plugin.tasks import (ContainerTaskHandler, choose_image,
                                           container_spec, run_in_container)

        class UnameTask(ContainerTaskHandler):
            Methods = ["siteUname"]
            _taskWeight = 0.5

            def handler(self, arch):
                ctx = self.context(arch)
                image = choose_image(ctx)
                with ctx.logs.open("uname.log") as log:
                    run_in_container(ctx, container_spec(ctx, image.image_id, ["uname", "-a"]),
                                     log.write_output)
                return "done"

        @hookimpl
        def adjutant_task_handlers():
            return [TaskHandlerProvider(name="site-uname", handlers=(UnameTask,))]
    """
    raise NotImplementedError


@hookspec
def adjutant_config_options() -> Sequence[ConfigOption]:
    """Declare ``[adjutant]`` config keys this plugin reads, with defaults and help.

    :return: options; an unknown key in the config file is an error naming the known ones.

    Example::

        @hookimpl
        def adjutant_config_options():
            return [ConfigOption("my_engine_url", "unix:///run/my.sock", "engine API socket")]
    """
    raise NotImplementedError


# -- decisions (first non-None answer wins) ------------------------------------------------


@hookspec(firstresult=True)
def adjutant_resolve_image(request: ImageRequest) -> ImageChoice | None:
    """Choose the container image for a task. Stops at the first non-None result.

    The built-in hub-policy resolver is registered ``trylast``: a site plugin that answers
    wins, one that returns None defers to it.

    :param request: the task's method, arch, tag and the tag's build config.
    :return: the chosen image and where the choice came from, or None to defer.
    :raises PolicyError: the policy is malformed (the task fails naming it).
    :raises PolicyUnavailable: the policy cannot be read now (the task fails naming it).
        Both are core types, exported from ``adjutant.plugin``.

    Example::

        @hookimpl
        def adjutant_resolve_image(request):
            if request.tag and request.tag.startswith("el10-"):
                return ImageChoice(image="registry.example/el10-build:latest",
                                   source="site plugin: el10 tags")
            return None
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def adjutant_prepare_buildroot(
    request: BuildrootRequest, runtime: ContainerRuntime, lock: KeyLock
) -> BuildrootPlan | None:
    """Decide how the buildroot is obtained. Stops at the first non-None result.

    :param request: base image, repo, groups and packages the task needs.
    :param runtime: the task's container runtime (to look up or create cached images).
    :param lock: the core's lock on ``request.key``, already held around this call, the
        install that may follow and the ``adjutant_buildroot_ready`` observers: two
        tasks needing the same buildroot never prepare it at once, whoever prepares it.
        It is re-entrant (``with lock:`` again is harmless).
    :return: a plan, or None to let the next plugin (finally the built-in one, which installs
        with dnf every time) decide. A plan with ``install=False`` names an image that
        exists when the hook returns.

    Example (a site that prepares buildroots its own way, once per key)::

        @hookimpl
        def adjutant_prepare_buildroot(request, runtime, lock):
            ref = f"localhost/site-buildroot:{request.key[:20]}"
            if runtime.image_id(ref) is None:      # under the lock: nobody else builds it
                build_site_buildroot(runtime, request, ref)
            return BuildrootPlan(image=ref, install=False, note="site buildroot")
    """
    raise NotImplementedError


# -- observers (every implementation is called; failures are logged, never fatal) ---------


@hookspec
def adjutant_task_started(task: Mapping[str, Any]) -> None:
    """A task began.

    :param task: ``id``, ``method``, ``arch`` and ``params`` of the task.

    Example::

        @hookimpl
        def adjutant_task_started(task):
            metrics.increment("tasks_started", method=task["method"])
    """


@hookspec
def adjutant_task_finished(task: Mapping[str, Any], result: Any) -> None:
    """A task succeeded.

    :param task: as for ``adjutant_task_started``.
    :param result: the value reported to the hub in ``closeTask``.

    Example::

        @hookimpl
        def adjutant_task_finished(task, result):
            print("task", task["id"], "done")
    """


@hookspec
def adjutant_task_failed(task: Mapping[str, Any], error: BaseException) -> None:
    """A task failed.

    :param task: as for ``adjutant_task_started``.
    :param error: the exception; its message is what the hub is told in ``failTask``.

    Example::

        @hookimpl
        def adjutant_task_failed(task, error):
            alerts.send(f"task {task['id']} failed: {error}")
    """


@hookspec
def adjutant_buildroot_ready(task: Mapping[str, Any], runtime: ContainerRuntime,
                             buildroot: PreparedBuildroot) -> None:
    """The buildroot for a task is ready to build in.

    Called with the buildroot's key locked, so a cache storing it here cannot race another
    task preparing the same buildroot. With the buildroot cache on, a task whose buildroot
    has requirements may prepare it in two layers, the groups' buildroot then the
    requirements on it (``plan.requirements``): each layer is reported here, the groups'
    one first, with its own request (no ``packages``).

    :param task: as for ``adjutant_task_started``.
    :param runtime: the task's container runtime.
    :param buildroot: the request, the plan followed, the image and its package lists. A
        freshly installed image (``plan.install``) is removed after the task unless a
        plugin gives it another name here (``runtime.tag_image``).

    Example::

        @hookimpl
        def adjutant_buildroot_ready(task, runtime, buildroot):
            log.info("task %s builds in %s (%s)", task["id"], buildroot.image,
                     buildroot.plan.note)
    """


@hookspec
def adjutant_results_collected(task: Mapping[str, Any], files: Sequence[str]) -> None:
    """The task's results are complete: called once per successful task, after its files
    were uploaded and before the task reports to the hub (its files still exist then).

    :param task: as for ``adjutant_task_started``.
    :param files: paths on this host of everything the task produced: RPMs, SRPMs,
        createrepo's repodata, and the task's logs (``adjutant build``: its output files
        and build.log).

    Example::

        @hookimpl
        def adjutant_results_collected(task, files):
            for f in files:
                scanner.submit(f)
    """
