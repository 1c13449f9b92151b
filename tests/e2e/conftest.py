"""End-to-end fixtures: a fake hub on loopback, real engines, real rpmbuild."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from adjutant.buildroot.cache import BuildrootCache
from adjutant.container.runtime import ContainerRuntime
from adjutant.engine import open_runtime
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.testing.engines import engine_with_default_image, open_engine
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, build_package, make_koji_repo, package_spec
from tests.support.kojisetup import EXAMPLE, make_srpm
from tests.support.mailbox import Mailbox
from tests.support.worker import WorkerProcess, write_config

HOST_PASSWORD = "host-secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def podman_ready() -> Iterator[None]:
    for _ in engine_with_default_image("podman"):
        yield


@pytest.fixture(scope="session")
def docker_ready() -> Iterator[None]:
    for _ in engine_with_default_image("docker"):
        yield


@pytest.fixture(scope="session")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("specs")


@pytest.fixture(scope="session")
def hello_srpm(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hello")
    return make_srpm(EXAMPLE.read_text(), out,
                     {"hello.sh": (EXAMPLE.parent / "hello.sh").read_text()})


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub(tmp_path / "topdir", RunInterval=0) as fake:
        yield fake


@pytest.fixture(scope="session")
def repo_packages(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) \
        -> dict[str, Path]:
    """Noarch packages for koji repos, built once: the build group's member, a library in
    two versions and a tool requiring it."""
    out = tmp_path_factory.mktemp("repo-packages")
    plugins = load_plugins(LoadOptions())
    runtime = open_runtime(plugins, "podman")
    specs = {
        "buildsys": package_spec("adjutant-buildsys"),
        "dep-1": package_spec("adjutant-dep", "1.0"),
        "dep-2": package_spec("adjutant-dep", "2.0"),
        "tool": package_spec("adjutant-tool", requires=["adjutant-dep"]),
    }
    built = {key: build_package(runtime, plugins, spec, out / key)[0]
             for key, spec in specs.items()}
    runtime.close()
    return built


@pytest.fixture
def podman_runtime() -> Iterator[ContainerRuntime]:
    runtime = open_engine("podman")
    yield runtime
    runtime.close()


@pytest.fixture
def build_tag(hub: FakeHub, repo_packages: dict[str, Path],
              podman_runtime: ContainerRuntime) -> dict[str, Any]:
    """A build tag whose READY repo has the build group, adjutant-tool and adjutant-dep 1.0."""
    tag_id = hub.add_tag("f-build", arches="x86_64")
    repo_id = make_koji_repo(hub, podman_runtime, "f-build",
                             [repo_packages[k] for k in ("buildsys", "dep-1", "tool")], GROUPS)
    return {"id": tag_id, "name": "f-build", "repo_id": repo_id}


WorkerFactory = Callable[..., WorkerProcess]


@pytest.fixture
def start_worker(hub: FakeHub, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start ``adjutant run`` processes for hosts of this hub; all stopped at teardown."""
    workers: list[WorkerProcess] = []
    runtimes: set[str] = set()

    def start(host: str = "builder1", runtime: str = "podman", add_host: bool = True,
              program: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
              **sections: Any) -> WorkerProcess:
        if add_host:
            hub.add_host(host, arches=["x86_64", "noarch"], password=HOST_PASSWORD,
                         channels=["default", "createrepo"])
        base = tmp_path / f"worker-{host}"
        base.mkdir(exist_ok=True)
        config = write_config(base / "kojid.conf", server=hub.url, topurl=hub.topurl,
                              topdir=hub.topdir, workdir=base / "work", user=host,
                              password=HOST_PASSWORD, runtime=runtime, **sections)
        worker = WorkerProcess(config, base / "worker.log", program=program, env=env).start()
        workers.append(worker)
        runtimes.add(runtime)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    # Cached buildroot images outlive a worker by design; a test's must not outlive it.
    for name in sorted(runtimes):
        runtime = open_engine(name)
        for base in {w.config.parent for w in workers}:
            BuildrootCache(base / "cache" / "buildroots").prune(runtime, max_images=0)
        runtime.close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox("127.0.0.1", port)
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()
