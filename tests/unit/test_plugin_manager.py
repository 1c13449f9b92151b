"""The plugin manager's contracts, with in-memory plugins."""

from __future__ import annotations

import inspect
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from adjutant.plugin import ContainerRuntimeProvider, hookimpl, hookspecs
from adjutant.plugin.manager import LoadOptions, PluginError, load_plugins


def _runtime_plugin(name: str) -> Any:
    class Plugin:
        @hookimpl
        def adjutant_container_runtimes(self) -> list[ContainerRuntimeProvider]:
            return [ContainerRuntimeProvider(name=name, factory=lambda s: None)]  # type: ignore[arg-type,return-value]
    return Plugin()


def test_every_hookspec_documents_params_return_and_an_example() -> None:
    specs = [f for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if n.startswith("adjutant_")]
    assert len(specs) >= 11
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert "Example" in doc and "@hookimpl" in doc, spec.__name__
        for param in inspect.signature(spec).parameters:
            assert f":param {param}:" in doc, f"{spec.__name__}: {param} undocumented"
        assert ":return:" in doc or inspect.signature(spec).return_annotation in ("None", None)


def test_every_hookspec_is_listed_in_the_pipeline_protocol() -> None:
    protocol = inspect.getdoc(hookspecs) or ""
    for name in dir(hookspecs):
        if name.startswith("adjutant_"):
            assert name in protocol, name


def test_duplicate_runtime_names_are_an_error_naming_both_plugins() -> None:
    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})),
                           extra=[("site-a", _runtime_plugin("fast")),
                                  ("site-b", _runtime_plugin("fast"))])
    # In pluggy's call order: the plugin registered last answers first.
    with pytest.raises(PluginError, match="'fast' is offered by two plugins: 'site-b' and "
                                          "'site-a'"):
        plugins.runtimes()


def test_unknown_runtime_error_lists_choices() -> None:
    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})),
                           extra=[("site-a", _runtime_plugin("fast"))])
    with pytest.raises(PluginError, match=r"unknown container runtime 'slow'; available: fast"):
        plugins.runtime_provider("slow")


def test_a_failing_observer_is_logged_and_the_others_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    class Bad:
        @hookimpl
        def adjutant_task_started(self, task: Any) -> None:
            raise RuntimeError("observer bug")

    class Good:
        @hookimpl
        def adjutant_task_started(self, task: Any) -> None:
            calls.append(task["id"])

    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})),
                           extra=[("bad", Bad()), ("good", Good())])
    with caplog.at_level(logging.ERROR):
        plugins.task_started({"id": 5})
    assert calls == [5]
    assert "plugin 'bad' failed in adjutant_task_started" in caplog.text


def test_a_plugin_with_a_misspelled_hook_is_reported_not_fatal() -> None:
    typo = SimpleNamespace()

    @hookimpl
    def adjutant_container_runtime() -> list[Any]:  # missing "s"
        return []

    typo.adjutant_container_runtime = adjutant_container_runtime
    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})), extra=[("typo", typo)])
    assert [f.name for f in plugins.failures] == ["typo"]
    assert "adjutant_container_runtime" in plugins.failures[0].error


def test_versions_read_by_two_threads_at_once_are_read_once_and_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A second caller while a first reads the plugins' versions waits for that read: it
    neither reads again nor sees a half-filled map."""
    import threading

    from adjutant.plugin import manager
    from adjutant.sbom import facts

    reading, release = threading.Event(), threading.Event()
    reads = []

    def entry_points(group: str) -> list[Any]:
        reads.append(group)
        reading.set()
        release.wait(5)
        dist = SimpleNamespace(metadata={"Name": "site-dist"}, version="4.2")
        return [SimpleNamespace(name="site", dist=dist)]

    plugins = load_plugins(extra=[("site", _runtime_plugin("site"))])
    monkeypatch.setattr(manager.importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(facts, "own_version", lambda: "1.0")
    manager._read_plugin_distributions.cache_clear()  # kept per process: read them anew
    try:
        threading.Thread(target=facts.worker_tools, args=(plugins,), daemon=True).start()
        assert reading.wait(5)
        threading.Timer(0.2, release.set).start()
        tools = facts.worker_tools(plugins)
        assert ("site", "4.2") in tools and tools[0] == ("koji-adjutant", "1.0")
        assert reads == ["adjutant"]
        assert facts.worker_tools(load_plugins(extra=[("site", _runtime_plugin("site"))])) \
            == tools and reads == ["adjutant"]  # another load of the plugins: no new read
    finally:
        release.set()
        manager._read_plugin_distributions.cache_clear()  # not the fake one for others
