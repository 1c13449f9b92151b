"""kojid.conf options an administrator relies on, honoured by real builds: RLIMIT_*,
log_timestamps, failed_buildroot_lifetime, yum_proxy."""

from __future__ import annotations

import http.server
import re
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.worker import failed
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import package_spec
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]


def log_of(hub: FakeHub, task_id: int, name: str) -> str:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{name}").read_text()


def test_rlimits_reach_the_build_as_container_ulimits(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker) -> None:
    srpm = make_srpm(package_spec("limits", build_check="echo nofile=$(ulimit -Sn):"
                                  "$(ulimit -Hn) core=$(ulimit -Sc)"), tmp_path / "limits")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), build_tag)
    worker = start_worker(kojid={"RLIMIT_NOFILE": "512 1024", "RLIMIT_CORE": "0 0"})
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    assert "nofile=512:1024 core=0" in log_of(hub, task_id, "build.log")


def test_log_timestamps_upload_kojids_ts_logs(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path,
        start_worker: StartWorker) -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    worker = start_worker(kojid={"log_timestamps": "yes"})
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    build_log = log_of(hub, task_id, "build.log")
    stamps = [tuple(map(int, line.split())) for line in
              log_of(hub, task_id, "build.log-ts.log").splitlines()]
    assert stamps[0][1] == 0 and stamps[-1][1] == len(build_log.encode())
    assert [s[1] for s in stamps] == sorted(s[1] for s in stamps)
    assert f"{koji.pathinfo.taskrelpath(task_id)}/root.log-ts.log" in \
        hub.task_result(task_id)["logs"]


def test_a_failed_build_keeps_its_buildroot_for_the_lifetime_then_it_goes(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker, podman_runtime: ContainerRuntime) -> None:
    srpm = make_srpm(package_spec("fails", build_check="touch left-behind; exit 1"),
                     tmp_path / "fails")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm), build_tag)
    worker = start_worker(kojid={"failed_buildroot_lifetime": 3600})
    assert wait_task(hub, task_id)["state_name"] == "FAILED", worker.log()[-3000:]
    workdir = worker.config.parent / "work"
    [kept] = failed.kept_buildroots(workdir)
    try:
        assert kept.task_id == task_id
        assert podman_runtime.image_id(kept.image) is not None
        assert list(Path(kept.builddir).rglob("left-behind"))
        assert re.search(r"failed buildroot kept until .* image "
                         rf"{re.escape(kept.image)}", log_of(hub, task_id, "root.log"))
        assert failed.expire(podman_runtime, workdir, now=kept.expires - 1) == 0
    finally:
        assert failed.expire(podman_runtime, workdir, now=kept.expires + 1) == 1
    assert podman_runtime.image_id(kept.image) is None
    assert not Path(kept.builddir).exists()


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy for plain HTTP that records the URLs it fetched."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        try:
            with urllib.request.urlopen(self.path, timeout=30) as upstream:
                body = upstream.read()
                status = upstream.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Proxy", (_RecordingProxy,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_yum_proxy_carries_the_buildroot_install(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path, tmp_path: Path,
        start_worker: StartWorker, proxy: tuple[str, list[str]]) -> None:
    url, seen = proxy
    task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    # No topdir here: the repo comes over topurl, through the proxy (host network: the
    # hub and the proxy listen on the host's loopback).
    worker = start_worker(kojid={"topdir": tmp_path / "no-topdir", "yum_proxy": url},
                          adjutant={"install_network": "host",
                                    "buildroot_cache_enabled": "no"})
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    assert any(u.endswith("/repodata/repomd.xml") for u in seen), seen
    assert any(u.endswith(".rpm") for u in seen), seen
