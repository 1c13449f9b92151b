"""The worker's own container image (packaging/container/Containerfile), built by
scripts/build-worker-image.sh, drives the HOST's engine through its mounted API socket:
a real build run from inside it happens in a container the host's podman creates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjutant.container.sockets import socket_path
from adjutant.container.spec import LABELS_ENV, MANAGED_LABEL, environment_labels
from adjutant.testing.engines import engine_with_default_image, skip_or_fail
from adjutant_podman.plugin import DEFAULT_URL

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build-worker-image.sh"
EXAMPLE = ROOT / "examples" / "hello"
IMAGE = "localhost/koji-adjutant-worker:test"


@pytest.fixture(scope="module")
def worker_image() -> Iterator[str]:
    """The image, built once per run from this checkout (reused when its inputs are
    unchanged: sources, Containerfile, base image)."""
    for _runtime, _base in engine_with_default_image("podman"):
        started = time.monotonic()
        proc = subprocess.run([str(SCRIPT), "--tag", IMAGE], capture_output=True, text=True,
                              timeout=900, check=False)
        if proc.returncode != 0:
            pytest.fail(f"{SCRIPT.name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        assert proc.stdout.strip() == IMAGE
        print(f"worker image ready in {time.monotonic() - started:.1f} s")
        yield IMAGE


def podman(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False)


def same_path(path: Path, mode: str = "rw") -> str:
    """A bind mount at the host's own path: the host engine resolves mount sources of the
    containers the worker creates on the host, not in the worker's container."""
    return f"--volume={path}:{path}:{mode}"


def test_lists_its_plugins(worker_image: str) -> None:
    proc = podman("run", "--rm", "--network=none", worker_image, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert listing["failed"] == []
    names = {p["name"] for p in listing["plugins"]}
    assert {"podman", "docker", "git", "builtin-image-policy"} <= names


def test_defaults_to_serving_the_hub_in_the_foreground(worker_image: str) -> None:
    proc = podman("image", "inspect", "--format",
                  "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", worker_image)
    assert proc.returncode == 0, proc.stderr
    entrypoint, cmd = (json.loads(part) for part in proc.stdout.split())
    assert entrypoint == ["/opt/koji-adjutant/bin/adjutant"]
    assert cmd == ["run", "--fg", "--force-lock", "--verbose"]


def test_builds_an_rpm_in_a_container_of_the_host_engine(worker_image: str,
                                                         tmp_path: Path) -> None:
    sock = socket_path(DEFAULT_URL)
    if sock is None or not os.path.exists(sock):
        skip_or_fail(f"the podman API socket {DEFAULT_URL} is not there")
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    out = tmp_path / "out"
    out.mkdir()
    # adjutant build makes its work directory under $TMPDIR and mounts it into the build
    # container: that too must be a host path.
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    marker = uuid.uuid4().hex
    # The build container the worker creates carries the test session's labels (so the
    # suite's leftover check covers it) and this test's marker; the worker's own container
    # carries them too, with the managed label.
    labels = {**environment_labels(), "io.koji-adjutant.test": marker}
    label_env = ",".join(f"{k}={v}" for k, v in labels.items())
    name = f"adjutant-worker-test-{marker[:12]}"
    started = time.monotonic()
    try:
        proc = podman(
            "run", "--rm", f"--name={name}", "--network=none",
            f"--label={MANAGED_LABEL}=true", *(f"--label={k}={v}" for k, v in labels.items()),
            f"--volume={sock}:{sock}", same_path(source, "ro"), same_path(out),
            same_path(tmpdir), f"--env=TMPDIR={tmpdir}", f"--env={LABELS_ENV}={label_env}",
            worker_image, "build", source / "adjutant-hello.spec", "-o", out,
            "--runtime", "podman",
            timeout=600)
    finally:
        podman("rm", "--force", "--time=0", "--ignore", name)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "adjutant-hello-1.0-1.noarch.rpm", "adjutant-hello-1.0-1.src.rpm", "build.log",
        "buildroot.spdx.json", "root.log"]
    assert "Hello from a koji-adjutant container build." in (out / "build.log").read_text()
    assert list(tmpdir.iterdir()) == [], "the build's work directory was not removed"
    left = podman("ps", "--all", "--quiet", f"--filter=label=io.koji-adjutant.test={marker}")
    assert left.returncode == 0 and left.stdout.strip() == "", left.stdout
    print(f"build through the worker image took {elapsed:.1f} s")
