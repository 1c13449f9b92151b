"""Test-wide rules: real engines are never skipped under CI, and no container outlives
the test session."""

from __future__ import annotations

import os
import uuid

import pytest

from adjutant.buildserver.client import OPT_OUT
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import LABELS_ENV, MANAGED_LABEL

#: Every container this run creates (in this process or in the adjutant processes it
#: starts, which inherit the environment) carries this label, so the end-of-run check
#: looks at this run's containers only, not at those of a concurrent run or a worker.
SESSION_LABEL = "io.koji-adjutant.test-session"
SESSION_ID = uuid.uuid4().hex


def pytest_configure(config: pytest.Config) -> None:
    extra = os.environ.get(LABELS_ENV, "")
    os.environ[LABELS_ENV] = ",".join(filter(None, [extra, f"{SESSION_LABEL}={SESSION_ID}"]))
    # A test's ``adjutant build`` runs in its own process and starts no build server
    # (one would outlive the test and serve the next tests' builds); the tests of the
    # build server set this to "" in the environment they give their commands.
    os.environ[OPT_OUT] = "1"


#: Image repositories the worker creates names in; a run must leave none of its own.
IMAGE_REPOS = ("localhost/adjutant-buildroot-cache", "localhost/adjutant-task-buildroot",
               "localhost/adjutant-failed-buildroot")
_IMAGES_BEFORE: dict[str, set[str]] = {}


def _engines() -> list[tuple[str, ContainerRuntime]]:
    from adjutant.container.errors import ContainerError
    from adjutant.engine import open_runtime
    from adjutant.plugin.manager import LoadOptions, PluginError, load_plugins

    plugins = load_plugins(LoadOptions())
    opened = []
    for name in plugins.runtimes():
        try:
            opened.append((name, open_runtime(plugins, name)))
        except (ContainerError, PluginError, ImportError):
            continue
    return opened


def _image_names(runtime: ContainerRuntime) -> set[str]:
    return {n for repo in IMAGE_REPOS for n in runtime.image_names(repo)}


def pytest_sessionstart(session: pytest.Session) -> None:
    for name, runtime in _engines():
        _IMAGES_BEFORE[name] = _image_names(runtime)
        runtime.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a container this run created is still there, or an image name the
    worker makes appeared during the run and stayed; remove them."""
    from adjutant.container.errors import ContainerError

    leftovers = []
    for name, runtime in _engines():
        for info in runtime.list_containers({MANAGED_LABEL: "true",
                                             SESSION_LABEL: SESSION_ID}):
            leftovers.append(f"{name}: container {info.name} {info.id[:12]} {info.labels}")
            runtime.remove(info.id)
        for image in sorted(_image_names(runtime) - _IMAGES_BEFORE.get(name, set())):
            leftovers.append(f"{name}: image {image}")
            try:
                runtime.remove_image(image)
            except ContainerError as exc:
                leftovers.append(f"{name}: could not remove {image}: {exc}")
        runtime.close()
    if leftovers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("left behind by the tests (now removed):", red=True)
            for line in leftovers:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
