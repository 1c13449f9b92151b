"""The runner and the pipeline's steps on the in-memory runtime: fast checks of the core's
logic (the real engines' behaviour is the conformance and end-to-end suites' job)."""

from __future__ import annotations

import os
from pathlib import Path

import koji
import pytest

from adjutant.build.localctx import local_context, local_settings
from adjutant.container.run import run_container
from adjutant.container.spec import ContainerSpec, Stream
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.plugin.types import BuildrootPackages, BuildrootPlan, BuildrootRequest
from adjutant.worker.buildroot import BuildrootPreparer
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.context import TaskContext
from adjutant.worker.steps.buildroot import Buildroot
from adjutant.worker.steps.containers import container_spec
from adjutant.worker.steps.results import take_results
from adjutant.worker.steps.rpmbuild import build_failure, run_rpmbuild, srpm_input
from tests.support.memruntime import MemoryRuntime, Run

IMAGE = "localhost/memory:latest"


def fake_rpmbuild(run: Run) -> tuple[list[tuple[Stream, bytes]], int]:
    """rpmbuild as far as the core can tell: output, and an RPM in the build dir."""
    rpms = run.path("/builddir/RPMS")
    rpms.mkdir(parents=True, exist_ok=True)
    (rpms / "pkg-1.0-1.noarch.rpm").write_bytes(b"not really an rpm")
    return [(Stream.STDOUT, b"Executing(%build)\n"), (Stream.STDERR, b"+ make\n"),
            (Stream.STDOUT, b"Wrote: /builddir/RPMS/pkg-1.0-1.noarch.rpm\n")], 0


def failing_rpmbuild(run: Run) -> tuple[list[tuple[Stream, bytes]], int]:
    return [(Stream.STDERR, b"error: Bad exit status from /var/tmp/rpm-tmp (%check)\n")], 1


@pytest.fixture
def ctx(tmp_path: Path) -> TaskContext:
    plugins = load_plugins(LoadOptions(allow=frozenset({"none"})))
    runtime = MemoryRuntime({"sh": fake_rpmbuild})
    settings = local_settings(plugins, overrides={"cache_dir": str(tmp_path / "cache")})
    return local_context(runtime, plugins, settings, tmp_path / "work", tmp_path / "logs",
                         "noarch", tag="f-build", build_config={"name": "f-build",
                                                                "extra": {}})


def buildroot(ctx: TaskContext) -> Buildroot:
    image_id = ctx.runtime.image_id(IMAGE)
    assert image_id is not None
    return Buildroot(image_id, BuildrootPackages(), HubBuildroot.__new__(HubBuildroot))


def test_the_runner_delivers_every_chunk_in_order_and_removes_the_container() -> None:
    runtime = MemoryRuntime({"echo": lambda run: ([(Stream.STDOUT, b"a"),
                                                   (Stream.STDERR, b"b"),
                                                   (Stream.STDOUT, b"c")], 3)})
    seen: list[tuple[Stream, bytes]] = []
    result = run_container(runtime, ContainerSpec(IMAGE, ("echo",)),
                           lambda s, d: seen.append((s, d)))
    assert (result.exit_code, result.ok) == (3, False)
    assert seen == [(Stream.STDOUT, b"a"), (Stream.STDERR, b"b"), (Stream.STDOUT, b"c")]
    assert runtime.containers == {}


def test_a_sink_that_raises_still_gets_the_container_removed() -> None:
    runtime = MemoryRuntime({"echo": lambda run: ([(Stream.STDOUT, b"a")], 0)})

    def broken(_stream: Stream, _data: bytes) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        run_container(runtime, ContainerSpec(IMAGE, ("echo",)), broken)
    assert runtime.containers == {}


def test_a_task_container_carries_the_settings_limits_labels_and_no_network(
        ctx: TaskContext) -> None:
    spec = container_spec(ctx, IMAGE, ["true"], network=False)
    assert spec.network is False
    assert spec.limits.pids == ctx.settings.container_pids
    assert spec.labels["io.koji-adjutant.task"] == str(ctx.task_id)
    assert all(not m.writable for m in spec.mounts)


def test_rpmbuild_runs_as_the_build_user_with_the_hubs_macros_and_only_builddir_writable(
        ctx: TaskContext, tmp_path: Path) -> None:
    srpm = tmp_path / "pkg-1.0-1.src.rpm"
    srpm.write_bytes(b"srpm")
    with ctx.logs.open("root.log") as root_log:
        run = run_rpmbuild(ctx, buildroot(ctx), srpm_input(srpm), "rebuild", root_log)
        assert run.ok
        rpms = take_results(ctx, run.builddir, "RPMS", ".rpm", root_log)
    [spec] = ctx.runtime.created  # type: ignore[attr-defined]
    assert spec.user == "1000:1000" and spec.network is False
    assert [m.target for m in spec.mounts if m.writable] == ["/builddir"]
    assert "--define" in spec.command and "vendor Koji" in spec.command
    assert [p.name for p in rpms] == ["pkg-1.0-1.noarch.rpm"]
    assert rpms[0].parent == ctx.workdir / "results" / "RPMS"
    log = (ctx.logs.directory / "build.log").read_bytes()
    assert log == (b"Executing(%build)\n+ make\n"
                   b"Wrote: /builddir/RPMS/pkg-1.0-1.noarch.rpm\n")


def test_a_failed_rpmbuild_is_explained_by_its_step(ctx: TaskContext, tmp_path: Path) -> None:
    ctx.runtime.programs["sh"] = failing_rpmbuild  # type: ignore[attr-defined]
    srpm = tmp_path / "pkg-1.0-1.src.rpm"
    srpm.write_bytes(b"srpm")
    with ctx.logs.open("root.log") as root_log:
        run = run_rpmbuild(ctx, buildroot(ctx), srpm_input(srpm), "rebuild", root_log)
    assert not run.ok
    error = build_failure(ctx, "buildArch pkg", run.result)
    assert isinstance(error, koji.BuildError)
    assert "buildArch pkg: rpmbuild failed in %check" in str(error)


def test_results_that_are_links_fail_the_task_without_being_read(
        ctx: TaskContext, tmp_path: Path) -> None:
    builddir = ctx.subdir("build")
    (builddir / "RPMS").mkdir()
    (builddir / "RPMS" / "x.rpm").symlink_to("/etc/passwd")
    with ctx.logs.open("root.log") as root_log, \
            pytest.raises(koji.BuildError, match=r"RPMS/x\.rpm: a symbolic link"):
        take_results(ctx, builddir, "RPMS", ".rpm", root_log)
    assert not (ctx.workdir / "results" / "RPMS" / "x.rpm").exists()
    assert os.path.exists(ctx.logs.directory / "root.log")


def _cached_plan_run(ctx: TaskContext, plan_id: str | None) -> list[str]:
    """Run a cache hit's plan for ``localhost/cache:one``, whose plugin saw ``plan_id``
    (``"seen"``: the image's real id); the refs the core asked the engine for."""
    runtime = ctx.runtime
    cached = runtime.commit("", "localhost/cache:one", {})
    asked: list[str] = []
    engine_image_id = runtime.image_id

    def image_id(ref: str) -> str | None:
        asked.append(ref)
        return engine_image_id(ref)

    runtime.image_id = image_id  # type: ignore[method-assign]
    request = BuildrootRequest(base_image=IMAGE, base_image_id="sha256:base", arch="noarch",
                               repo_id=1, repo_url="file:///repo", groups=("build",))
    plan = BuildrootPlan("localhost/cache:one", install=False, note="hit",
                         image_id=cached if plan_id == "seen" else plan_id)
    preparer = BuildrootPreparer(ctx)
    with ctx.logs.open("root.log") as root_log:
        prepared = preparer._run_plan(request, plan, None, root_log)  # type: ignore[arg-type]
    asked_by_the_core = list(asked)
    assert prepared.image_id == cached and preparer.task_image is not None
    assert engine_image_id(preparer.task_image) == cached
    return asked_by_the_core


def test_a_plan_with_the_id_its_plugin_saw_is_named_for_the_task_without_asking_again(
        ctx: TaskContext) -> None:
    assert _cached_plan_run(ctx, "seen") == []
    asked = _cached_plan_run(ctx, None)  # a plugin that did not look: the engine is asked
    assert asked == ["localhost/cache:one"]


def test_a_plan_whose_image_is_gone_since_its_plugin_looked_fails_as_absent(
        ctx: TaskContext) -> None:
    with pytest.raises(koji.BuildError, match="buildroot image localhost/cache:one of the "
                                              r"plan \(hit\) is not present"):
        _cached_plan_run(ctx, "sha256:" + "0" * 64)
