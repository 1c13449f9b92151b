"""The public plugin API: everything a plugin author imports comes from here.

A plugin is a module with functions marked ``@hookimpl`` (see ``adjutant.plugin.hookspecs``
for every hook, with examples), registered through an entry point in the ``adjutant`` group::

    [project.entry-points.adjutant]
    my-site = "my_site_plugin"
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
)

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
    "PreparedBuildroot",
    "RuntimeSettings",
    "ScmFetcher",
    "hookimpl",
]
