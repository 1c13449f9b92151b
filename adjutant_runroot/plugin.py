"""The runroot plugin's hooks: its ``[adjutant]`` key and its task handler.

The handler module imports koji and the worker; it is imported only when the worker asks
for task handlers, so that listing plugins stays cheap.
"""

from __future__ import annotations

from adjutant.plugin import ConfigOption, TaskHandlerProvider, hookimpl
from adjutant_runroot.config import CONFIG_KEY, DEFAULT_CONFIG


@hookimpl
def adjutant_config_options() -> list[ConfigOption]:
    return [ConfigOption(CONFIG_KEY, DEFAULT_CONFIG,
                         "kojid's runroot plugin config: mounts, safe roots, network")]


@hookimpl
def adjutant_task_handlers() -> list[TaskHandlerProvider]:
    from adjutant_runroot.task import RunrootTask

    return [TaskHandlerProvider(name="runroot", handlers=(RunrootTask,),
                                description="koji's runroot: a command in a buildroot "
                                            "container")]
