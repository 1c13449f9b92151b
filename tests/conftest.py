"""Test-wide rules: real engines are never skipped under CI, and no container outlives
the test session."""

from __future__ import annotations

import pytest

from adjutant.container.spec import MANAGED_LABEL


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any container labelled by the project is left on any engine."""
    from adjutant.container.errors import ContainerError
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import LoadOptions, PluginError, load_plugins

    plugins = load_plugins(LoadOptions())
    leftovers = []
    for name in plugins.runtimes():
        try:
            runtime = open_runtime(plugins, name)
        except (ContainerError, PluginError, ImportError):
            continue
        for info in runtime.list_containers({MANAGED_LABEL: "true"}):
            leftovers.append(f"{name}: {info.name} {info.id[:12]} {info.labels}")
            runtime.remove(info.id)
        runtime.close()
    if leftovers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("containers left behind by the tests (now removed):", red=True)
            for line in leftovers:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
