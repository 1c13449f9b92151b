"""Test-wide rules: real engines are never skipped under CI, and no container outlives
the test session."""

from __future__ import annotations

import os
import uuid

import pytest

from adjutant.container.spec import LABELS_ENV, MANAGED_LABEL

#: Every container this run creates (in this process or in the adjutant processes it
#: starts, which inherit the environment) carries this label, so the end-of-run check
#: looks at this run's containers only, not at those of a concurrent run or a worker.
SESSION_LABEL = "io.koji-adjutant.test-session"
SESSION_ID = uuid.uuid4().hex


def pytest_configure(config: pytest.Config) -> None:
    extra = os.environ.get(LABELS_ENV, "")
    os.environ[LABELS_ENV] = ",".join(filter(None, [extra, f"{SESSION_LABEL}={SESSION_ID}"]))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a container this run created is still there; remove it."""
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
        for info in runtime.list_containers({MANAGED_LABEL: "true",
                                             SESSION_LABEL: SESSION_ID}):
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
