"""Opening real engines in tests, and the rule that CI never skips them.

Under ``CI=true`` an engine that cannot be reached fails the test instead of skipping it:
a skip there would hide a missing install step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator

import pytest

from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime, EngineTimeouts
from adjutant.engine import open_runtime
from adjutant.image.default import DEFAULT_IMAGE, ensure_default_image
from adjutant.plugin.manager import LoadOptions, PluginError, load_plugins


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI, where every real part must be installed."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: real engines and tools are required, not skipped)")
    pytest.skip(reason)


def open_engine(name: str) -> ContainerRuntime:
    """The named runtime from its plugin, or skip/fail saying why it is unavailable."""
    try:
        return open_runtime(load_plugins(LoadOptions()), name)
    except (ContainerError, PluginError, ImportError) as exc:
        skip_or_fail(f"{name} is not available: {exc}")
        raise  # unreachable: skip_or_fail raises


def engine_with_default_image(name: str) -> Iterator[tuple[ContainerRuntime, str]]:
    """Yield (runtime, default image ref), building or importing the image when needed."""
    runtime = open_engine(name)
    try:
        ensure_default_image(runtime)
        yield runtime, DEFAULT_IMAGE
    finally:
        runtime.close()


def unique_label() -> dict[str, str]:
    """A label no other test uses, to find exactly this test's containers."""
    return {"io.koji-adjutant.test": uuid.uuid4().hex}


def _start_time(pid: int) -> int:
    """When process ``pid`` started (clock ticks since boot); 0 when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name (field 2) may hold spaces: count from after its ")".
            return int(f.read().rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def engine_service_pid(runtime: ContainerRuntime) -> int | None:
    """The pid of the engine service behind ``runtime`` (podman's API service, dockerd).

    When several candidates run, the newest wins: a service started on an older one's
    socket path replaces the path, leaving the old one listening on a socket nobody can
    reach any more (freezing that one would freeze nothing anyone uses).
    """
    url = getattr(runtime, "url", "")
    candidates = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if not argv:
            continue
        program = os.path.basename(argv[0])
        if runtime.name == "docker" and program == "dockerd":
            candidates.append(int(entry.name))
        if runtime.name == "podman" and program == "podman" and argv[1:3] == \
                ["system", "service"] and (not url or url in argv):
            candidates.append(int(entry.name))
    return max(candidates, key=_start_time) if candidates else None


@contextlib.contextmanager
def engine_frozen(runtime: ContainerRuntime) -> Iterator[None]:
    """Make the real engine service hang (SIGSTOP) for the duration, then resume it."""
    pid = engine_service_pid(runtime)
    if pid is None:
        skip_or_fail(f"cannot find the {runtime.name} service process to freeze")
        return
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def bounded_runtime(name: str, timeouts: EngineTimeouts) -> Iterator[ContainerRuntime]:
    """Yield the named runtime with engine-call bounds ``timeouts`` (to show a hung
    engine's calls fail in time), the default image present; closed after."""
    prepared = open_engine(name)
    try:
        ensure_default_image(prepared)
    finally:
        prepared.close()
    runtime = open_runtime(load_plugins(LoadOptions()), name, timeouts=timeouts)
    try:
        yield runtime
    finally:
        runtime.close()
