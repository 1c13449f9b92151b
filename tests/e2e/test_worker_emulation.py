"""Emulated arches against the fake hub, on this x86_64 host: an aarch64 buildArch built
in the aarch64 image under qemu-user, a native-only package refused for the emulated arch
and built for the native one, start-up naming an arch whose handler is missing, and a
packager's ``adjutant build --arch aarch64``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.platforms import host_arch
from adjutant.container.runtime import ContainerRuntime
from adjutant.rpm.header import read_rpm
from adjutant.testing.engines import engine_with_arch_image
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, make_koji_repo
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess, wait_for, write_config

pytestmark = pytest.mark.skipif(host_arch() != "x86_64",
                                reason="emulates aarch64 on an x86_64 host")

HOST_PASSWORD = "host-secret"
BINFMT = Path("/proc/sys/fs/binfmt_misc")

#: An arch-specific package (no BuildArch): its files say what arch the build ran as.
ARCH_SPEC = """\
Name:           adjutant-archinfo
Version:        1.0
Release:        1
Summary:        Records the arch its build ran on
License:        MIT

%description
Records uname -m, %%{_arch} and %%{_host_cpu} as the build saw them.

%build
printf 'uname=%s\\narch=%s\\nhost_cpu=%s\\n' "$(uname -m)" '%{_arch}' '%{_host_cpu}' > archinfo
cat archinfo

%install
install -D -m 0644 archinfo %{buildroot}%{_datadir}/adjutant-archinfo/archinfo

%files
%{_datadir}/adjutant-archinfo/archinfo

%changelog
* Mon Nov 30 2026 koji-adjutant developers <devel@koji-adjutant.invalid> - 1.0-1
- First package.
"""


@pytest.fixture(scope="session")
def aarch64_image(podman_ready: None) -> Iterator[str]:
    for _runtime, ref in engine_with_arch_image("podman", "aarch64"):
        yield ref


@pytest.fixture(scope="session")
def archinfo_srpm(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_srpm(ARCH_SPEC, tmp_path_factory.mktemp("archinfo"))


def emulating_tag(hub: FakeHub, runtime: ContainerRuntime, repo_packages: dict[str, Path],
                  image: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Tag ``arm-build`` (x86_64 and aarch64) with a READY repo of both arches and a
    policy naming ``image`` for aarch64 tasks."""
    policy = {"rules": [{"type": "tag_arch", "tag": "arm-build", "arch": "aarch64",
                         "image": image}]}
    tag_id = hub.add_tag("arm-build", arches="x86_64 aarch64",
                         extra={"adjutant_image_policy": json.dumps(policy), **(extra or {})})
    repo_id = make_koji_repo(hub, runtime, "arm-build",
                             [repo_packages[k] for k in ("buildsys", "dep-1", "tool")], GROUPS,
                             arch="aarch64", more_arches=["x86_64"])
    return {"id": tag_id, "name": "arm-build", "repo_id": repo_id}


def start_emulating_worker(hub: FakeHub, start_worker: Callable[..., WorkerProcess],
                           adjutant_extra: dict[str, Any]) -> WorkerProcess:
    """A worker of host ``builder-emu``, whose hub arches and config add aarch64."""
    hub.add_host("builder-emu", arches=["x86_64", "aarch64", "noarch"],
                 password=HOST_PASSWORD, channels=["default"])
    return start_worker(host="builder-emu", add_host=False,
                        adjutant={"emulated_arches": "aarch64", **adjutant_extra})


def task_file(hub: FakeHub, task_id: int, name: str) -> Path:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{name}")


def test_an_aarch64_build_runs_emulated_in_the_policys_aarch64_image(
        hub: FakeHub, archinfo_srpm: Path, aarch64_image: str, repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, start_worker: Callable[..., WorkerProcess]) -> None:
    tag = emulating_tag(hub, podman_runtime, repo_packages, aarch64_image)
    task_id = build_arch_task(hub, upload_srpm(hub, archinfo_srpm), tag, arch="aarch64",
                              keep_srpm=False)
    worker = start_emulating_worker(hub, start_worker, {"emulation_timeout_factor": 6})
    task = wait_task(hub, task_id, timeout=1800)
    assert task["state_name"] == "CLOSED", worker.log()[-4000:]
    result = hub.task_result(task_id)
    (rpm_rel,) = result["rpms"]
    rpm = hub.work_path(rpm_rel)
    assert rpm.name == "adjutant-archinfo-1.0-1.aarch64.rpm"
    assert read_rpm(rpm).arch == "aarch64"
    root_log = task_file(hub, task_id, "root.log").read_text()
    assert root_log.splitlines()[0] == f"image: {aarch64_image}"
    assert "hub policy of tag arm-build: rule 1 (tag_arch: tag=arm-build arch=aarch64)" \
        in root_log
    assert "emulated build: aarch64 containers (linux/arm64) run under qemu-user on this " \
           "x86_64 host; timeouts are x6" in root_log
    build_log = task_file(hub, task_id, "build.log").read_text()
    assert "uname=aarch64\narch=aarch64\nhost_cpu=aarch64\n" in build_log
    # The hub's buildroot record says aarch64 too.
    assert hub.buildroot(result["brootid"])["arch"] == "aarch64"


def test_a_native_only_package_is_refused_emulated_and_built_natively(
        hub: FakeHub, archinfo_srpm: Path, aarch64_image: str, repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, start_worker: Callable[..., WorkerProcess]) -> None:
    tag = emulating_tag(hub, podman_runtime, repo_packages, aarch64_image,
                        extra={"adjutant_emulation_deny": "adjutant-archinfo"})
    srpm = upload_srpm(hub, archinfo_srpm)
    emulated = build_arch_task(hub, srpm, tag, arch="aarch64", keep_srpm=False)
    native = build_arch_task(hub, srpm, tag, arch="x86_64", keep_srpm=False)
    worker = start_emulating_worker(hub, start_worker, {})
    assert wait_task(hub, native, timeout=600)["state_name"] == "CLOSED", worker.log()[-3000:]
    wait_for(lambda: hub.refusals(emulated), 60, message="a refusal")
    (refusal,) = hub.refusals(emulated)
    assert not refusal["soft"] and refusal["by_host"]
    assert hub.task(emulated)["state_name"] == "FREE"  # left for a native aarch64 host
    assert "adjutant-archinfo must build natively for aarch64: it matches " \
           "'adjutant-archinfo' of build tag arm-build's adjutant_emulation_deny" \
        in worker.log()
    (rpm_rel,) = hub.task_result(native)["rpms"]
    assert read_rpm(hub.work_path(rpm_rel)).arch == "x86_64"


@pytest.fixture(params=["disabled", "removed"])
def s390x_handler_broken(request: pytest.FixtureRequest) -> Iterator[str]:
    """The real qemu-s390x handler disabled, or unregistered, for the test; registered
    and enabled again after (as binfmt-support does at boot)."""
    entry = BINFMT / "qemu-s390x"
    assert entry.exists(), "qemu-user-static's s390x handler is not registered here"
    entry.write_text("0" if request.param == "disabled" else "-1")
    try:
        yield request.param
    finally:
        if entry.exists():
            entry.write_text("1")
        else:
            subprocess.run(["update-binfmts", "--enable", "qemu-s390x"], check=True)


#: What start-up says of the s390x handler, by what was done to it.
HANDLER_PROBLEMS = {
    "disabled": "s390x: the qemu-s390x handler is registered but disabled; as root: "
                "update-binfmts --enable qemu-s390x",
    "removed": "s390x: no qemu-user handler is registered for it (no "
               "/proc/sys/fs/binfmt_misc/qemu-s390x); install Debian's qemu-user-static "
               "and binfmt-support",
}


def test_start_up_names_an_arch_whose_handler_is_missing(
        hub: FakeHub, aarch64_image: str, s390x_handler_broken: str,
        tmp_path: Path) -> None:
    hub.add_host("builder1", arches=["x86_64", "aarch64", "s390x"], password=HOST_PASSWORD)
    config = write_config(tmp_path / "kojid.conf", server=hub.url, topurl=hub.topurl,
                          topdir=hub.topdir, workdir=tmp_path / "work", user="builder1",
                          password=HOST_PASSWORD,
                          adjutant={"emulated_arches": "aarch64 s390x"})
    proc = adjutant("run", "-c", config, "--once")
    assert proc.returncode == 1
    assert "emulated_arches lists arches this host cannot run:\n  " \
           + HANDLER_PROBLEMS[s390x_handler_broken] in proc.stderr
    assert "aarch64:" not in proc.stderr  # that one runs
    assert not hub.sessions("builder1")  # it stopped before logging in


def test_adjutant_build_arch_builds_a_foreign_arch_locally(
        archinfo_srpm: Path, aarch64_image: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = adjutant("build", archinfo_srpm, "--arch", "aarch64", "-o", out,
                    "--runtime", "podman", timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (rpm,) = out.glob("*.aarch64.rpm")
    assert read_rpm(rpm).arch == "aarch64"
    log = (out / "build.log").read_text()
    said = proc.stdout + proc.stderr
    assert f"image: {aarch64_image} (sha256:" in said
    assert "the aarch64 default image; linux/arm64 under qemu-user" in said
    assert "emulated build: the container runs as linux/arm64 under qemu-user" in log
    assert "uname=aarch64\narch=aarch64\n" in log
