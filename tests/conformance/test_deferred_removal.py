"""A task's container is removed by its deferred cleanup, on both engines: the task goes
on meanwhile, and nothing is left once the cleanup has finished."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import koji
import pytest

from adjutant.build.localctx import local_context, local_settings
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
    removed_by: list[str] = []
    real_remove = runtime.remove

    def remove(container_id: str) -> None:
        removed_by.append(threading.current_thread().name)
        real_remove(container_id)

    monkeypatch.setattr(runtime, "remove", remove)
    output: list[bytes] = []
    spec = container_spec(ctx, image, ("sh", "-c", "echo built; exit 3"))
    try:
        result = run_in_container(ctx, spec, lambda _s, data: output.append(data))
        assert (result.exit_code, b"".join(output)) == (3, b"built\n")
    finally:
        ctx.cleanup.finish()
    mine = task_selector(ctx.settings.host_name, ctx.task_id)
    assert runtime.list_containers(mine) == []
    assert [name.split("_")[0] for name in removed_by] == ["task-cleanup"]


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
    with pytest.raises(koji.BuildError, match="container failure: could not remove "
                                              f"container {result.container_id[:12]}"):
        ctx.cleanup.finish()
    real_remove(result.container_id)
