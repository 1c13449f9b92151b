"""``adjutant build --repo``: BuildRequires installed from the packager's repos with dnf,
the build as the unprivileged user, the buildroot cache reused; ``--keep`` and
``adjutant shell`` driven through tmux."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjutant.build.local import LOCAL_LABEL
from adjutant.buildroot.cache import BuildrootCache
from adjutant.container.runtime import ContainerRuntime
from adjutant.engine import open_runtime
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.testing.engines import engine_with_default_image
from tests.support.cli import adjutant
from tests.support.kojirepo import build_package, package_spec
from tests.support.kojisetup import make_srpm

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def podman() -> Iterator[ContainerRuntime]:
    for runtime, _image in engine_with_default_image("podman"):
        yield runtime


@pytest.fixture(scope="module")
def dirs(podman: ContainerRuntime, tmp_path_factory: pytest.TempPathFactory) \
        -> dict[str, Path]:
    """Two plain directories of RPMs (a tool in one, the library it requires in the
    other) and an SRPM that BuildRequires the tool."""
    base = tmp_path_factory.mktemp("repos")
    plugins = load_plugins(LoadOptions())
    runtime = open_runtime(plugins, "podman")
    out = {}
    for key, spec in {"tools": package_spec("pk-tool", requires=["pk-lib"]),
                      "libs": package_spec("pk-lib", "2.0")}.items():
        (rpm,) = build_package(runtime, plugins, spec, base / f"build-{key}")
        (base / key).mkdir()
        shutil.copy(rpm, base / key / rpm.name)
        out[key] = base / key
    runtime.close()
    out["srpm"] = make_srpm(package_spec(
        "pk-user", release="1%{?dist}", build_requires=["pk-tool"],
        build_check="cat /usr/share/pk-lib/marker; id -u"), base / "user")
    return out


@pytest.fixture
def cache_dir(tmp_path: Path, podman: ContainerRuntime) -> Iterator[Path]:
    yield tmp_path / "cache"
    cache = BuildrootCache(tmp_path / "cache" / "buildroots")
    cache.prune(podman, max_images=0)
    assert cache.entries() == []


def build(srpm: Path, out: Path, cache_dir: Path, *args: str | Path) \
        -> subprocess.CompletedProcess[str]:
    return adjutant("build", srpm, "-o", out, "--runtime", "podman", "--cache-dir",
                    cache_dir, *args)


def test_buildrequires_come_from_local_rpm_directories_and_the_cache_is_reused(
        dirs: dict[str, Path], cache_dir: Path, tmp_path: Path,
        podman: ContainerRuntime) -> None:
    first = build(dirs["srpm"], tmp_path / "one", cache_dir, "--repo", dirs["tools"],
                  "--repo", f"file://{dirs['libs']}", "--define", "dist .pk1")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "one" / "pk-user-1.0-1.pk1.noarch.rpm").exists()
    log = (tmp_path / "one" / "build.log").read_text()
    # The library's marker, read by the build, which runs as uid 1000.
    assert "\n2.0-1\n" in log and "\n1000\n" in log
    assert "adjutant: buildroot: 2 packages (installed with dnf, cached)" in first.stderr
    root_log = (tmp_path / "one" / "root.log").read_text()
    assert "installing build requirements: pk-tool" in root_log
    assert f"results in {tmp_path / 'one'}" in first.stdout
    # The packager's directories are only read: createrepo_c wrote its metadata elsewhere.
    assert not (dirs["tools"] / "repodata").exists()

    again = build(dirs["srpm"], tmp_path / "two", cache_dir, "--repo", dirs["tools"],
                  "--repo", dirs["libs"])
    assert again.returncode == 0, again.stderr
    assert "buildroot: 2 packages (cache hit: no dnf)" in again.stderr
    assert "buildroot: 2 packages (from the buildroot cache)" in again.stdout
    listed = adjutant("cache", "list", "--cache-dir", cache_dir, "-c", tmp_path / "none")
    assert "localhost/adjutant-buildroot-cache:" in listed.stdout
    assert podman.list_containers({LOCAL_LABEL: "true"}) == []


def test_without_the_repo_providing_a_dependency_dnf_says_nothing_provides_it(
        dirs: dict[str, Path], cache_dir: Path, tmp_path: Path) -> None:
    proc = build(dirs["srpm"], tmp_path / "out", cache_dir, "--repo", dirs["tools"])
    assert proc.returncode == 1
    assert "build failed at step buildroot" in proc.stderr
    assert "nothing provides pk-lib needed by pk-tool-1.0-1.noarch" in proc.stderr
    assert not list((tmp_path / "out").glob("*.rpm"))


def test_a_repo_that_is_neither_a_url_nor_a_directory_is_named(
        dirs: dict[str, Path], tmp_path: Path) -> None:
    proc = adjutant("build", dirs["srpm"], "-o", tmp_path, "--repo", tmp_path / "nowhere",
                    "--cache-dir", tmp_path / "cache")
    assert proc.returncode == 1
    assert f"--repo {tmp_path / 'nowhere'}: not a directory" in proc.stderr


def test_root_without_a_profile_is_a_usage_error(dirs: dict[str, Path],
                                                 tmp_path: Path) -> None:
    proc = adjutant("build", "--rebuild", dirs["srpm"], "--resultdir", tmp_path,
                    "-r", "f40-build")
    assert proc.returncode == 2
    assert "-r/--root is mock's spelling of --tag and needs --profile" in proc.stderr


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True,
                          text=True).stdout


def test_the_shell_of_a_kept_build_runs_as_the_build_user_and_goes_away_on_exit(
        dirs: dict[str, Path], cache_dir: Path, tmp_path: Path,
        podman: ContainerRuntime) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (scripts/setup-host.sh installs it)")
    out = tmp_path / "out"
    kept = build(dirs["srpm"], out, cache_dir, "--repo", dirs["tools"], "--repo",
                 dirs["libs"], "--keep")
    assert kept.returncode == 0, kept.stderr
    assert "kept: buildroot image localhost/adjutant-kept-buildroot:pk-user-1.0-1" \
        in kept.stdout
    assert (out / "builddir" / "RPMS").is_dir()
    session = f"adjutant-shell-{uuid.uuid4().hex[:8]}"
    done = out / "builddir" / "done"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "30",
         f"{sys.executable} -m adjutant.cli.main shell -o {out}; sleep 30")
    try:
        deadline = time.monotonic() + 60
        while "/builddir" not in tmux("capture-pane", "-p", "-t", session):
            assert time.monotonic() < deadline, tmux("capture-pane", "-p", "-t", session)
            time.sleep(0.5)
        running = podman.list_containers({LOCAL_LABEL: "true"})
        assert len(running) == 1
        tmux("send-keys", "-t", session,
             "echo $(id -u) $(cat /usr/share/pk-lib/marker) $(pwd) > done; exit", "Enter")
        while not done.exists() or podman.list_containers({LOCAL_LABEL: "true"}):
            assert time.monotonic() < deadline, tmux("capture-pane", "-p", "-t", session)
            time.sleep(0.5)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert done.read_text() == "1000 2.0-1 /builddir\n"
    podman.remove_image("localhost/adjutant-kept-buildroot:pk-user-1.0-1")
