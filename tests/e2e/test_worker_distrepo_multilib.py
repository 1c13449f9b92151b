"""``koji dist-repo --multilib`` against the fake hub: the x86_64 part carries the i686
packages the devel multilib method selects and what they need, resolved by dnf."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import koji
import pytest

from adjutant.build.local import LocalBuildRequest, build_locally
from adjutant.container.runtime import ContainerRuntime
from adjutant.engine import open_runtime
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.plugin.manager import LoadOptions, load_plugins
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import install_from_repo, register_packages
from tests.support.kojisetup import wait_task
from tests.support.worker import WorkerProcess

# An arch-specific package: a program, a library (runtime multilib), the library's
# arch-specific data (multilib only as the library's dependency) and a -devel package.
SPEC = textwrap.dedent("""\
    Name: mlfoo
    Version: 1.0
    Release: 1
    Summary: multilib test package
    License: MIT
    %global debug_package %{nil}
    %ifarch x86_64
    %global mllib /usr/lib64
    %else
    %global mllib /usr/lib
    %endif
    %description
    mlfoo.
    %package libs
    Summary: the library
    Requires: mlfoo-common = %{version}-%{release}
    %description libs
    libs.
    %package common
    Summary: arch data
    %description common
    common.
    %package devel
    Summary: headers
    Requires: mlfoo-libs = %{version}-%{release}
    %description devel
    devel.
    %install
    mkdir -p %{buildroot}%{mllib} %{buildroot}/usr/bin %{buildroot}/usr/include \\
        %{buildroot}/usr/share/mlfoo-%{_arch}
    echo lib > %{buildroot}%{mllib}/libmlfoo.so.1
    echo bin > %{buildroot}/usr/bin/mlfoo-%{_arch}
    echo h > %{buildroot}/usr/include/mlfoo-%{_arch}.h
    echo data > %{buildroot}/usr/share/mlfoo-%{_arch}/data
    %files
    /usr/bin/mlfoo-%{_arch}
    %files libs
    %{mllib}/libmlfoo.so.1
    %files common
    /usr/share/mlfoo-%{_arch}
    %files devel
    /usr/include/mlfoo-%{_arch}.h
    """)

CONFIG = textwrap.dedent("""\
    [runtime]
    white = valgrind
    black = httpd
    [devel]
    white =
    black = httpd-devel
    """)
CONFIG_PATH = "cli-dist-repo/abc/multilib.conf"


@pytest.fixture(scope="module")
def mlfoo(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) \
        -> dict[str, list[Path]]:
    """mlfoo's rpms built for x86_64 and for i686."""
    plugins = load_plugins(LoadOptions())
    runtime = open_runtime(plugins, "podman")
    built = {}
    for arch in ("x86_64", "i686"):
        out = tmp_path_factory.mktemp(f"mlfoo-{arch}")
        (out / "src").mkdir()
        (out / "src" / "mlfoo.spec").write_text(SPEC)
        result = build_locally(runtime, plugins, LocalBuildRequest(
            source=out / "src" / "mlfoo.spec", output=out, image=DEFAULT_IMAGE,
            target_arch=arch))
        built[arch] = result.rpms
    runtime.close()
    return built


def _dist_repo(hub: FakeHub, tag: str, arches: list[str]) -> int:
    """``koji dist-repo TAG --multilib multilib.conf --arch ...`` as koji's CLI sends it:
    the config uploaded to the hub's work dir first."""
    conf = hub.work_path(CONFIG_PATH)
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(CONFIG)
    hub.add_user("releng", "pw", perms=["dist-repo"])
    return int(hub.client("releng", "pw").distRepo(
        tag, [], arch=arches, inherit=False, latest=True, multilib=CONFIG_PATH,
        split_debuginfo=False, skip_missing_signatures=False, allow_missing_signatures=True,
        comps=None, delta=[], event=None, volume=None, zck=False, zck_dict_dir=None,
        write_signed_rpms=False))


def _tag(hub: FakeHub, tag: str, rpms: list[Path]) -> None:
    hub.add_tag(tag, arches="x86_64 i686")
    for build_id in {entry[3] for entry in register_packages(hub, rpms)}:
        hub.tag_build(tag, build_id)


def test_multilib_dist_repo_carries_the_selected_i686_packages_and_their_deps(
        hub: FakeHub, mlfoo: dict[str, list[Path]], podman_runtime: ContainerRuntime,
        start_worker: Callable[..., WorkerProcess]) -> None:
    _tag(hub, "f-ml", mlfoo["x86_64"] + mlfoo["i686"])
    task_id = _dist_repo(hub, "f-ml", ["x86_64", "i686"])
    worker = start_worker()
    assert wait_task(hub, task_id, timeout=600)["state_name"] == "CLOSED", \
        worker.log()[-4000:]
    repo_id = hub.task(task_id)["request"][1]
    packages = sorted(p.name for p in
                      (hub.repo_path(repo_id) / "x86_64" / "Packages" / "m").iterdir())
    assert packages == [
        "mlfoo-1.0-1.x86_64.rpm",
        "mlfoo-common-1.0-1.i686.rpm", "mlfoo-common-1.0-1.x86_64.rpm",
        "mlfoo-devel-1.0-1.i686.rpm", "mlfoo-devel-1.0-1.x86_64.rpm",
        "mlfoo-libs-1.0-1.i686.rpm", "mlfoo-libs-1.0-1.x86_64.rpm",
    ]
    i386 = sorted(p.name for p in
                  (hub.repo_path(repo_id) / "i386" / "Packages" / "m").iterdir())
    assert "mlfoo-1.0-1.i686.rpm" in i386
    x86 = next(c for c in hub.children(task_id) if hub.task(c)["request"][2] == "x86_64")
    log = hub.work_path(f"{koji.pathinfo.taskrelpath(x86)}/multilib.log").read_text()
    assert "mlfoo-devel-1.0-1.x86_64.rpm: multilib, wants mlfoo-devel-1.0-1.i686.rpm" in log
    assert "mlfoo-libs-1.0-1.x86_64.rpm: multilib, wants mlfoo-libs-1.0-1.i686.rpm" in log
    assert "mlfoo-common-1.0-1.x86_64.rpm: multilib" not in log
    assert "dnf depsolve successfully finished" in log

    # dnf installs the 32-bit packages from the x86_64 repo.
    text = install_from_repo(
        podman_runtime, hub.repo_path(repo_id) / "x86_64",
        ["mlfoo-devel.i686", "mlfoo-libs.i686", "mlfoo-common.i686"], "rpm -qa 'mlfoo*' | sort")
    assert "mlfoo-common-1.0-1.i686\nmlfoo-devel-1.0-1.i686\nmlfoo-libs-1.0-1.i686" in text


def test_missing_32_bit_counterparts_fail_with_missing_multilib_log(
        hub: FakeHub, mlfoo: dict[str, list[Path]],
        start_worker: Callable[..., WorkerProcess]) -> None:
    _tag(hub, "f-ml", mlfoo["x86_64"])
    task_id = _dist_repo(hub, "f-ml", ["x86_64", "i686"])
    worker = start_worker()
    task = wait_task(hub, task_id, timeout=600)
    assert task["state_name"] == "FAILED", worker.log()[-4000:]
    x86 = next(c for c in hub.children(task_id) if hub.task(c)["request"][2] == "x86_64")
    with pytest.raises(koji.GenericError, match=re.escape(
            "multilib packages missing. See missing_multilib.log")):
        hub.task_result(x86)
    log = hub.work_path(f"{koji.pathinfo.taskrelpath(x86)}/missing_multilib.log")
    lines = log.read_text().splitlines()
    assert lines[0] == "The following multilib files were missing:"
    assert [Path(line).name for line in lines[1:]] == [
        "mlfoo-devel-1.0-1.i686.rpm", "mlfoo-libs-1.0-1.i686.rpm"]
