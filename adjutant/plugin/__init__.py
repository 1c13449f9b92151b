"""The public plugin API: everything a plugin author imports comes from here.

A plugin is a module with functions marked ``@hookimpl`` (see ``adjutant.plugin.hookspecs``
for every hook, with examples), registered through an entry point in the ``adjutant`` group::

    [project.entry-points.adjutant]
    my-site = "my_site_plugin"

A plugin adding task methods (``adjutant_task_handlers``) builds its handlers from
``adjutant.plugin.tasks``: the handler base classes and the steps of the core's own
pipelines. That module imports koji, so it is kept out of this one.
"""

from adjutant.buildroot.locks import KeyLock
from adjutant.plugin.hookspecs import hookimpl
from adjutant.plugin.types import (
    BuildrootPackages,
    BuildrootPlan,
    BuildrootRequest,
    CheckoutResult,
    CommandResult,
    CommandRunner,
    ConfigOption,
    ContainerRuntimeProvider,
    EngineTimeouts,
    ImageChoice,
    ImageRequest,
    LogSink,
    LogSinkProvider,
    PreparedBuildroot,
    RuntimeSettings,
    ScmFetcher,
    TaskHandlerProvider,
)
from adjutant.policy.errors import PolicyError, PolicyUnavailable

__all__ = [
    "BuildrootPackages",
    "BuildrootPlan",
    "BuildrootRequest",
    "CheckoutResult",
    "CommandResult",
    "CommandRunner",
    "ConfigOption",
    "ContainerRuntimeProvider",
    "EngineTimeouts",
    "ImageChoice",
    "ImageRequest",
    "KeyLock",
    "LogSink",
    "LogSinkProvider",
    "PolicyError",
    "PolicyUnavailable",
    "PreparedBuildroot",
    "RuntimeSettings",
    "ScmFetcher",
    "TaskHandlerProvider",
    "hookimpl",
]
