"""``adjutant build`` on real engines with real rpmbuild."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from pathlib import Path

import pytest

from adjutant.build.local import LOCAL_LABEL
from adjutant.container.runtime import ContainerRuntime
from tests.support.cli import adjutant
from tests.support.kojisetup import EXAMPLE

pytestmark = pytest.mark.engine



def test_example_spec_builds_rpm_srpm_and_log(engine: ContainerRuntime, tmp_path: Path) -> None:
    proc = adjutant("build", EXAMPLE, "-o", tmp_path, "--runtime", engine.name)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["adjutant-hello-1.0-1.noarch.rpm", "adjutant-hello-1.0-1.src.rpm",
                     "build.log", "buildroot.spdx.json", "root.log"]
    log = (tmp_path / "build.log").read_text()
    assert "Executing(%build)" in log and "Hello from a koji-adjutant container build." in log
    assert "adjutant-hello-1.0-1.noarch.rpm" in proc.stdout
    # What it was built in: the image's own packages (debs of the default image).
    summary = adjutant("sbom", tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert "local build of adjutant-hello.spec" in summary.stdout
    assert re.search(r"buildroot: \d+ packages \(\d+ from image\)", summary.stdout)
    digest = hashlib.sha256((tmp_path / "adjutant-hello-1.0-1.noarch.rpm").read_bytes())
    assert f"adjutant-hello-1.0-1.noarch.rpm  sha256:{digest.hexdigest()}" in summary.stdout
    # The worker's and the plugins' versions, read while the container ran.
    creators = json.loads((tmp_path / "buildroot.spdx.json").read_text())["creationInfo"]
    versions = dict(c.removeprefix("Tool: ").rsplit("-", 1) for c in creators["creators"])
    assert versions["koji-adjutant"] != "unknown" and versions[engine.name] != "unknown"


def test_a_build_given_its_image_id_asks_the_engine_nothing_about_the_image(
        engine: ContainerRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The packager's build passes the id it has just verified: no lookup; an id gone
    meanwhile fails the container's creation as a missing image."""
    from adjutant.build.local import LocalBuildRequest, build_locally
    from adjutant.container.errors import ImageUnavailable
    from adjutant.image.default import DEFAULT_IMAGE
    from adjutant.plugin.manager import LoadOptions, load_plugins

    plugins = load_plugins(LoadOptions())
    image_id = engine.image_id(DEFAULT_IMAGE)
    assert image_id is not None

    def no_lookup(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the image was looked up although its id was given")

    monkeypatch.setattr(engine, "image_id", no_lookup)
    monkeypatch.setattr(engine, "inspect_image", no_lookup)
    result = build_locally(engine, plugins, LocalBuildRequest(
        source=EXAMPLE, output=tmp_path / "out", image=image_id, image_id=image_id,
        srpm_only=True))
    assert [p.name for p in result.srpms] == ["adjutant-hello-1.0-1.src.rpm"]
    assert result.image_id == image_id
    gone = "sha256:" + "0" * 64
    with pytest.raises(ImageUnavailable):
        build_locally(engine, plugins, LocalBuildRequest(
            source=EXAMPLE, output=tmp_path / "gone", image=gone, image_id=gone,
            srpm_only=True))


def test_the_packager_looks_the_image_up_once_and_passes_its_id(
        engine: ContainerRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``adjutant build`` with no buildroot: the default image is checked once (by name,
    for its recipe); the build itself is given that id and asks nothing more."""
    from adjutant.build.local import LocalBuildRequest
    from adjutant.build.localctx import local_settings
    from adjutant.build.packager import BuildrootSource, build_for_packager
    from adjutant.image.default import DEFAULT_IMAGE
    from adjutant.plugin.manager import LoadOptions, load_plugins

    plugins = load_plugins(LoadOptions())
    asked: list[str] = []
    real_inspect, real_image_id = engine.inspect_image, engine.image_id

    def inspect_image(ref: str) -> object:
        asked.append(f"inspect {ref}")
        return real_inspect(ref)

    def image_id(ref: str) -> str | None:
        asked.append(f"image_id {ref}")
        return real_image_id(ref)

    monkeypatch.setattr(engine, "inspect_image", inspect_image)
    monkeypatch.setattr(engine, "image_id", image_id)
    result = build_for_packager(
        engine, plugins, LocalBuildRequest(source=EXAMPLE, output=tmp_path / "out",
                                           image=DEFAULT_IMAGE),
        local_settings(plugins, overrides={"cache_dir": str(tmp_path / "cache")}),
        BuildrootSource())
    assert [p.name for p in result.build.rpms] == ["adjutant-hello-1.0-1.noarch.rpm"]
    assert asked == [f"inspect {DEFAULT_IMAGE}"], asked


def test_the_packager_returns_with_its_containers_removed(
        engine: ContainerRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SBOM's inventory container (a fresh cache: the image's inventory is taken) is
    removed by the deferred cleanup, which the packager waits for, however slow."""
    from adjutant.build.local import LocalBuildRequest
    from adjutant.build.localctx import local_settings
    from adjutant.build.packager import BuildrootSource, build_for_packager
    from adjutant.image.default import DEFAULT_IMAGE
    from adjutant.plugin.manager import LoadOptions, load_plugins

    plugins = load_plugins(LoadOptions())
    asked: list[str] = []
    done: list[str] = []
    real_remove = engine.remove

    def slow_remove(container_id: str) -> None:
        asked.append(container_id)
        time.sleep(0.5)
        real_remove(container_id)
        done.append(container_id)

    monkeypatch.setattr(engine, "remove", slow_remove)
    build_for_packager(
        engine, plugins, LocalBuildRequest(source=EXAMPLE, output=tmp_path / "out",
                                           image=DEFAULT_IMAGE),
        local_settings(plugins, overrides={"cache_dir": str(tmp_path / "cache")}),
        BuildrootSource())
    assert asked and done == asked


def test_srpm_rebuild_gives_the_same_names_on_both_engines(tmp_path: Path) -> None:
    srpm_dir = tmp_path / "srpm"
    first = adjutant("build", EXAMPLE, "-o", srpm_dir, "--runtime", "podman")
    assert first.returncode == 0, first.stderr
    srpm = srpm_dir / "adjutant-hello-1.0-1.src.rpm"
    names = {}
    for runtime in ("podman", "docker"):
        out = tmp_path / runtime
        proc = adjutant("build", srpm, "-o", out, "--runtime", runtime)
        assert proc.returncode == 0, proc.stderr
        names[runtime] = sorted(p.name for p in out.glob("*.rpm"))
    assert names["podman"] == names["docker"] == [
        "adjutant-hello-1.0-1.noarch.rpm", "adjutant-hello-1.0-1.src.rpm"]


def test_define_sets_a_macro(engine: ContainerRuntime, tmp_path: Path) -> None:
    spec = tmp_path / "src" / "dist-test.spec"
    spec.parent.mkdir()
    spec.write_text(EXAMPLE.read_text().replace("Name:           adjutant-hello",
                                                "Name:           dist-test")
                    .replace("Release:        1", "Release:        1%{?dist}"))
    (spec.parent / "hello.sh").write_text((EXAMPLE.parent / "hello.sh").read_text())
    proc = adjutant("build", spec, "-o", tmp_path / "out", "--runtime", engine.name,
                    "--define", "dist .adj7")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "dist-test-1.0-1.adj7.noarch.rpm").exists()


def test_failing_build_names_the_step_shows_the_tail_and_leaves_no_container(
        engine: ContainerRuntime, tmp_path: Path) -> None:
    spec = tmp_path / "src" / "broken.spec"
    spec.parent.mkdir()
    spec.write_text(EXAMPLE.read_text()
                    .replace("Name:           adjutant-hello", "Name:           broken")
                    .replace("sh ./hello.sh > greeting.txt",
                             "echo 'compiler says: no' >&2\nexit 4"))
    (spec.parent / "hello.sh").write_text("echo hi\n")
    proc = adjutant("build", spec, "-o", tmp_path / "out", "--runtime", engine.name)
    assert proc.returncode == 1
    assert "build failed at step %build" in proc.stderr
    assert "compiler says: no" in proc.stderr  # the log's tail is shown
    assert not list((tmp_path / "out").glob("*.rpm"))
    assert engine.list_containers({LOCAL_LABEL: "true"}) == []


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    proc = adjutant("build", tmp_path / "nope.src.rpm", "-o", tmp_path)
    assert proc.returncode == 1
    assert "nope.src.rpm does not exist" in proc.stderr


def test_unknown_runtime_lists_the_available_ones(tmp_path: Path) -> None:
    proc = adjutant("build", EXAMPLE, "-o", tmp_path, "--runtime", "lxc")
    assert proc.returncode == 2
    assert "unknown container runtime 'lxc'; available: docker, podman" in proc.stderr


def hostile_spec(name: str, secret: Path) -> str:
    """A package whose build leaves links to a host file among its results: in RPMS/ at
    %build, a fifo beside them, and SRPMS/ swapped for a link to the host dir at %clean
    (after rpmbuild wrote the real packages)."""
    return EXAMPLE.read_text().replace("Name:           adjutant-hello",
                                       f"Name:           {name}").replace(
        "sh ./hello.sh > greeting.txt",
        "sh ./hello.sh > greeting.txt\n"
        f"ln -s {secret} %{{_rpmdir}}/stolen-1.0-1.noarch.rpm\n"
        f"ln -s {secret.parent} %{{_rpmdir}}/hostdir.rpm\n"
        "mkfifo %{_rpmdir}/fifo-1.0-1.noarch.rpm\n") + \
        f"\n%clean\nrm -rf %{{_srcrpmdir}} && ln -s {secret.parent} %{{_srcrpmdir}}\n"


def test_results_that_are_links_to_host_files_are_refused_never_copied(
        engine: ContainerRuntime, tmp_path: Path) -> None:
    secret_text = f"host secret {uuid.uuid4().hex}"
    secret = tmp_path / "host" / "secret-1.0-1.src.rpm"
    secret.parent.mkdir()
    secret.write_text(secret_text)
    src = tmp_path / "src"
    src.mkdir()
    (src / "hostile.spec").write_text(hostile_spec("hostile", secret))
    (src / "hello.sh").write_text((EXAMPLE.parent / "hello.sh").read_text())
    out = tmp_path / "out"
    proc = adjutant("build", src / "hostile.spec", "-o", out, "--runtime", engine.name)
    assert proc.returncode == 1, proc.stdout
    assert "build failed at step results" in proc.stderr
    for refused in ("RPMS/stolen-1.0-1.noarch.rpm: a symbolic link",
                    "RPMS/hostdir.rpm: a symbolic link", "RPMS/fifo-1.0-1.noarch.rpm: a fifo",
                    "SRPMS: a symbolic link"):
        assert refused in proc.stderr
    build_log = (out / "build.log").read_text()
    assert "refused RPMS/stolen-1.0-1.noarch.rpm: a symbolic link" in build_log
    # Nothing was taken from the refused build (its SBOM lists no outputs), and the host
    # file went nowhere.
    assert sorted(p.name for p in out.iterdir()) == ["build.log", "buildroot.spdx.json",
                                                     "root.log"]
    sbom = (out / "buildroot.spdx.json").read_text()
    assert "stolen" not in sbom and "SPDXRef-Output" not in sbom
    for text in (proc.stdout, proc.stderr, build_log, sbom):
        assert secret_text not in text
    assert engine.list_containers({LOCAL_LABEL: "true"}) == []


def test_a_build_past_its_memory_limit_is_named_out_of_memory(
        engine: ContainerRuntime, tmp_path: Path) -> None:
    """%build's shell is OOM-killed; rpmbuild survives and says only "Bad exit status":
    the kernel's record turns that into the memory limit, named as the user set it."""
    spec = tmp_path / "src" / "hog.spec"
    spec.parent.mkdir()
    spec.write_text(EXAMPLE.read_text()
                    .replace("Name:           adjutant-hello", "Name:           hog")
                    .replace("sh ./hello.sh > greeting.txt",
                             "python3 -c 'b = bytearray(300 * 1024 * 1024)'"))
    (spec.parent / "hello.sh").write_text("echo hi\n")
    proc = adjutant("build", spec, "-o", tmp_path / "out", "--runtime", engine.name,
                    "--memory", "64M", "--pids", "256")
    assert proc.returncode == 1, proc.stderr
    assert "build failed at step memory" in proc.stderr
    assert "out of memory: the build exceeded --memory = 64M" in proc.stderr
    assert engine.list_containers({LOCAL_LABEL: "true"}) == []


def test_memory_needs_a_size(tmp_path: Path) -> None:
    proc = adjutant("build", EXAMPLE, "-o", tmp_path, "--memory", "lots")
    assert proc.returncode == 2 and "'lots' is not a size" in proc.stderr
