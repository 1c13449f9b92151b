"""Start-up errors a Koji administrator can act on."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.worker import write_config


def _config(hub: FakeHub, tmp_path: Path, user: str = "builder1",
            password: str = "host-secret") -> Path:
    return write_config(tmp_path / "kojid.conf", server=hub.url, topurl=hub.topurl,
                        topdir=hub.topdir, workdir=tmp_path / "work", user=user,
                        password=password)


def test_a_held_lock_is_reported_with_the_way_out(hub: FakeHub, tmp_path: Path,
                                                  podman_ready: None) -> None:
    hub.add_host("builder1", password="host-secret")
    holder = hub.client("builder1", "host-secret", exclusive=True)
    proc = adjutant("run", "-c", _config(hub, tmp_path), "--once")
    assert proc.returncode == 1
    assert "holds the lock" in proc.stderr and "--force-lock" in proc.stderr
    assert holder.host.getID()  # the holder was left alone


def test_bad_credentials_are_reported(hub: FakeHub, tmp_path: Path,
                                      podman_ready: None) -> None:
    hub.add_host("builder1", password="host-secret")
    proc = adjutant("run", "-c", _config(hub, tmp_path, password="wrong"), "--once")
    assert proc.returncode == 1
    assert f"cannot log into {hub.url}" in proc.stderr


def test_a_user_that_is_not_a_host_is_told_so(hub: FakeHub, tmp_path: Path,
                                              podman_ready: None) -> None:
    hub.add_user("alice", "pw")
    proc = adjutant("run", "-c", _config(hub, tmp_path, "alice", "pw"), "--once")
    assert proc.returncode == 1
    assert "koji add-host" in proc.stderr
    # It logged out on the way: the lock it took is free again.
    assert not [s for s in hub.sessions("alice") if not s["closed"]]


def test_once_serves_one_round_and_exits_cleanly(hub: FakeHub, tmp_path: Path,
                                                 podman_ready: None) -> None:
    hub.add_host("builder1", password="host-secret")
    proc = adjutant("run", "-c", _config(hub, tmp_path), "--once", "--verbose")
    assert proc.returncode == 0, proc.stderr
    assert hub.calls["host.updateHost"] >= 2  # the round's heartbeat and the shutdown's
    # The ready line names what runs: the worker's version and each plugin's.
    version = importlib.metadata.version("koji-adjutant")
    assert f"koji-adjutant {version} (plugins: " in proc.stderr
    assert f"podman {version}" in proc.stderr
