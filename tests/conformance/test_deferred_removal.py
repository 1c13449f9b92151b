"""A task's container is removed by its deferred cleanup, on both engines: the task goes
on meanwhile, and nothing is left once the cleanup has finished."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import koji
import pytest

from adjutant.build.localctx import local_context, local_settings
from adjutant.container.run import run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.testing.engines import engine_with_default_image
from adjutant.worker.context import TaskContext
from adjutant.worker.labels import task_selector
from adjutant.worker.steps.containers import container_spec, run_in_container


@pytest.fixture(scope="module", params=["podman", "docker"])
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[ContainerRuntime, str]]:
    yield from engine_with_default_image(request.param)


def _context(runtime: ContainerRuntime, tmp_path: Path) -> TaskContext:
    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})))
    settings = local_settings(plugins, overrides={"cache_dir": str(tmp_path / "cache")})
    return local_context(runtime, plugins, settings, tmp_path / "work", tmp_path / "logs",
                         "noarch")


def test_the_run_returns_before_the_removal_and_finish_removes_it(
        engine: tuple[ContainerRuntime, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, image = engine
    ctx = _context(runtime, tmp_path)
    returned = threading.Event()
    removals: list[tuple[str, bool]] = []
    real_remove = runtime.remove

    def remove(container_id: str) -> None:
        # A removal made before the run returned would wait here in vain.
        returned.wait(5)
        removals.append((threading.current_thread().name.split("_")[0], returned.is_set()))
        real_remove(container_id)

    monkeypatch.setattr(runtime, "remove", remove)
    output: list[bytes] = []
    spec = container_spec(ctx, image, ("sh", "-c", "echo built; exit 3"))
    try:
        result = run_in_container(ctx, spec, lambda _s, data: output.append(data))
        returned.set()
        assert (result.exit_code, b"".join(output)) == (3, b"built\n")
    finally:
        returned.set()
        ctx.cleanup.finish()
    mine = task_selector(ctx.settings.host_name, ctx.task_id)
    assert runtime.list_containers(mine) == []
    assert removals == [("task-cleanup", True)]


def test_a_container_that_cannot_be_removed_fails_the_task_saying_so(
        engine: tuple[ContainerRuntime, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, image = engine
    ctx = _context(runtime, tmp_path)
    spec = container_spec(ctx, image, ("true",))
    real_remove = runtime.remove
    from adjutant.container.errors import ContainerError

    def refuse(container_id: str) -> None:
        raise ContainerError(f"{runtime.name}: removing {container_id} failed: busy")

    monkeypatch.setattr(runtime, "remove", refuse)
    result = run_in_container(ctx, spec, lambda _s, _d: None)
    try:
        with pytest.raises(koji.BuildError, match="container failure: could not remove "
                                                  f"container {result.container_id[:12]}"):
            ctx.cleanup.finish()
    finally:
        real_remove(result.container_id)


def test_a_run_that_raises_removes_its_container_at_once(
        engine: tuple[ContainerRuntime, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that raises (here a sink with a full disk) may leave a container running and
    writing: it is removed before the error leaves, not by the deferred cleanup."""
    runtime, image = engine
    ctx = _context(runtime, tmp_path)
    removed_by: list[str] = []
    real_remove = runtime.remove

    def remove(container_id: str) -> None:
        removed_by.append(threading.current_thread().name)
        real_remove(container_id)

    def full_disk(_stream: object, _data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runtime, "remove", remove)
    with pytest.raises(OSError, match="No space left"):
        run_in_container(ctx, container_spec(ctx, image, ("echo", "built")), full_disk)
    assert removed_by == ["MainThread"]
    mine = task_selector(ctx.settings.host_name, ctx.task_id)
    assert runtime.list_containers(mine) == []


def test_a_removal_on_the_cleanup_thread_while_the_next_run_goes_on(
        engine: tuple[ContainerRuntime, str], tmp_path: Path) -> None:
    """Three threads on one runtime: a finished container removed by the deferred cleanup
    while the next one is followed (reader thread) and waited for (main thread)."""
    runtime, image = engine
    ctx = _context(runtime, tmp_path)
    first = run_container(runtime, container_spec(ctx, image, ("echo", "a")),
                          lambda *_: None, keep=True)
    second_runs = threading.Event()

    def remove_first() -> None:
        second_runs.wait(10)  # the second has printed "b"; "c" comes a second later
        runtime.remove(first.container_id)

    ctx.cleanup.defer("remove the first container", remove_first)
    output: list[bytes] = []

    def sink(_stream: object, data: bytes) -> None:
        output.append(data)
        second_runs.set()

    try:
        second = run_in_container(
            ctx, container_spec(ctx, image, ("sh", "-c", "echo b; sleep 1; echo c")), sink)
    finally:
        second_runs.set()
        ctx.cleanup.finish()
    assert (second.exit_code, b"".join(output)) == (0, b"b\nc\n")
    mine = task_selector(ctx.settings.host_name, ctx.task_id)
    assert runtime.list_containers(mine) == []
