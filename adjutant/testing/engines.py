"""Opening real engines in tests, and the rule that CI never skips them.

Under ``CI=true`` an engine that cannot be reached fails the test instead of skipping it:
a skip there would hide a missing install step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator

import pytest

from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime, EngineTimeouts
from adjutant.engine import open_runtime
from adjutant.image.default import DEFAULT_IMAGE, default_image_ref, ensure_default_image
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


def engine_with_arch_image(name: str, arch: str) -> Iterator[tuple[ContainerRuntime, str]]:
    """Yield (runtime, ref of the default image for ``arch``), building that image when
    needed (a foreign arch needs qemu-user registered: the build says how when it is
    not)."""
    runtime = open_engine(name)
    try:
        ref = default_image_ref(arch)
        ensure_default_image(runtime, ref, arch=arch)
        yield runtime, ref
    finally:
        runtime.close()


def unique_label() -> dict[str, str]:
    """A label no other test uses, to find exactly this test's containers."""
    return {"io.koji-adjutant.test": uuid.uuid4().hex}


def _stat_fields(pid: int) -> list[str]:
    """Fields 3 onwards of ``/proc/PID/stat`` (empty when the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name (field 2) may hold spaces: count from after its ")".
            return f.read().rpartition(")")[2].split()
    except OSError:
        return []


def _start_time(pid: int) -> int:
    """When process ``pid`` started (clock ticks since boot); 0 when unknown."""
    fields = _stat_fields(pid)
    return int(fields[19]) if len(fields) > 19 else 0


def _state(pid: int) -> str:
    """The process's state letter (``T`` when stopped); empty when it is gone."""
    fields = _stat_fields(pid)
    return fields[0] if fields else ""


def engine_service_pids(runtime: ContainerRuntime) -> list[int]:
    """The pids of the engine service behind ``runtime`` (podman's API service, dockerd),
    with any helper it runs under the same command line (podman re-executes itself for
    some image operations), oldest first."""
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
    return sorted(candidates, key=_start_time)


@contextlib.contextmanager
def engine_frozen(runtime: ContainerRuntime) -> Iterator[None]:
    """Make the real engine service hang (SIGSTOP) for the duration, then resume it.

    Every process of the service is stopped, and the block starts only once the kernel
    shows each stopped: freezing just the newest could catch a helper that is about to
    exit, leaving the service itself answering.
    """
    pids = engine_service_pids(runtime)
    if not pids:
        skip_or_fail(f"cannot find the {runtime.name} service process to freeze")
        return
    frozen = []
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                frozen.append(pid)
        deadline = time.monotonic() + 5
        while any(_state(pid) not in ("T", "Z", "X", "") for pid in frozen):
            assert time.monotonic() < deadline, f"{runtime.name} did not stop: {frozen}"
            time.sleep(0.01)
        yield
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
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
