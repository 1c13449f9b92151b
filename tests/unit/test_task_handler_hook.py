"""``adjutant_task_handlers``: plugins add task methods next to the built-in ones."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import koji.daemon
import pytest

from adjutant.plugin import TaskHandlerProvider, hookimpl
from adjutant.plugin.manager import LoadOptions, PluginError, load_plugins
from adjutant.plugin.tasks import HubTaskHandler
from adjutant.worker.daemon import all_handlers


class EchoTask(HubTaskHandler):
    Methods = ["siteEcho"]
    _taskWeight = 0.1

    def handler(self, text: str, shout: bool = False) -> str:
        return text.upper() if shout else text


class OtherEchoTask(HubTaskHandler):
    Methods = ["siteEcho"]


def _offering(name: str, *handlers: type[Any]) -> Any:
    class Plugin:
        @hookimpl
        def adjutant_task_handlers(self) -> list[TaskHandlerProvider]:
            return [TaskHandlerProvider(name=name, handlers=handlers)]
    return Plugin()


def _plugins(*extra: tuple[str, Any]) -> Any:
    return load_plugins(LoadOptions(allow=frozenset({"none"})), extra=list(extra))


class _Manager:
    """Just the handler index of koji's TaskManager, filled by its own registerHandler."""

    registerHandler = koji.daemon.TaskManager.registerHandler

    def __init__(self) -> None:
        self.handlers: dict[str, type[Any]] = {}


def test_a_plugins_method_is_registered_and_its_handler_runs(tmp_path: Path) -> None:
    plugins = _plugins(("site-echo", _offering("echo", EchoTask)))
    manager = _Manager()
    for handler in all_handlers(plugins):
        manager.registerHandler(handler)
    assert manager.handlers["siteEcho"] is EchoTask
    assert manager.handlers["buildArch"].__name__ == "BuildArchTask"  # built-ins still there

    options = SimpleNamespace(plugins=plugins, daemon_pid=os.getpid(), workdir=str(tmp_path))
    session = SimpleNamespace(_callMethod=lambda *a, **k: None)
    task = manager.handlers["siteEcho"](7, "siteEcho", ("hi", {"shout": True, "__starstar": True}),
                                        session, options)
    assert task.run() == "HI"


def test_a_method_offered_by_two_plugins_is_an_error_naming_both() -> None:
    plugins = _plugins(("site-a", _offering("echo-a", EchoTask)),
                       ("site-b", _offering("echo-b", OtherEchoTask)))
    with pytest.raises(PluginError, match="task method 'siteEcho' is offered by two plugins: "
                                          "'site-b' and 'site-a'"):
        all_handlers(plugins)


def test_a_plugin_may_not_take_over_a_core_method() -> None:
    class Takeover(HubTaskHandler):
        Methods = ["buildArch"]

    plugins = _plugins(("site-x", _offering("x", Takeover)))
    with pytest.raises(PluginError, match="task method 'buildArch' of 'site-x' is handled by "
                                          "the core already"):
        all_handlers(plugins)


def test_a_provider_without_methods_is_refused_when_made() -> None:
    class NoMethods(HubTaskHandler):
        Methods: list[str] = []

    with pytest.raises(TypeError, match="non-empty Methods list"):
        TaskHandlerProvider(name="bad", handlers=(NoMethods,))
