"""``adjutant doctor`` as a user runs it: against the fake hub and the real engines, a good
set-up passes and each broken one exits non-zero naming the problem and its fix."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adjutant.testing.engines import engine_with_default_image
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.worker import write_config

pytestmark = pytest.mark.engine

HOST = "builder1"
PASSWORD = "host-secret"
GOOD_POLICY = {"rules": [{"type": "default", "image": "localhost/adjutant-buildroot:bookworm"}]}

Doctor = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module", params=["podman"])
def engine_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """An engine that answers and holds the default image (built once if missing)."""
    for runtime, _image in engine_with_default_image(request.param):
        yield runtime.name


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    """A hub with the host (enabled, in default and createrepo) and one target whose build
    tag carries a valid image policy."""
    with FakeHub(tmp_path / "topdir") as fake:
        fake.add_host(HOST, arches=["x86_64", "noarch"], password=PASSWORD,
                      channels=["default", "createrepo"])
        fake.add_tag("f-build", extra={"adjutant_image_policy": GOOD_POLICY})
        fake.add_tag("f-dest")
        fake.add_target("f", "f-build", "f-dest")
        yield fake


@pytest.fixture
def doctor(hub: FakeHub, tmp_path: Path, engine_name: str) -> Doctor:
    """Write a kojid.conf for the host (``kojid``/``adjutant`` values override the good
    ones) and run ``adjutant doctor -c`` on it."""
    good = {"server": hub.url, "topurl": hub.topurl, "topdir": hub.topdir,
            "workdir": tmp_path / "work", "user": HOST, "password": PASSWORD}

    def run(*args: str, kojid: dict[str, Any] | None = None,
            adjutant_values: dict[str, Any] | None = None,
            runtime: str = engine_name) -> subprocess.CompletedProcess[str]:
        values = {**good, **(kojid or {})}
        named = {k: values.pop(k) for k in good}
        config = write_config(tmp_path / "kojid.conf", runtime=runtime, kojid=values,
                              adjutant=adjutant_values, **named)
        return adjutant("doctor", "-c", config, *args, timeout=120)
    return run


def lines(proc: subprocess.CompletedProcess[str], status: str) -> list[str]:
    """The report lines with that status (``ok``, ``warn``, ``FAIL``, ``skip``)."""
    return [ln for ln in proc.stdout.splitlines() if re.match(rf"{status}\s", ln)]


def one_failure(proc: subprocess.CompletedProcess[str], what: str) -> str:
    """Exit status 1 and exactly one FAIL line, starting with ``what``; that line."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failures = lines(proc, "FAIL")
    assert len(failures) == 1, proc.stdout
    assert failures[0].startswith(f"FAIL {what}"), proc.stdout
    return failures[0]


# -- the good set-up --------------------------------------------------------------------

def test_good_setup_passes_every_check(doctor: Doctor, hub: FakeHub) -> None:
    proc = doctor()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc, "FAIL") == [] and lines(proc, "skip") == [], proc.stdout
    ok = "\n".join(lines(proc, "ok"))
    for expected in (f"hub {hub.url}: answers (Koji ",
                     f"login as {HOST} (password): accepted",
                     f"host {HOST}: enabled; arches x86_64 noarch, channels createrepo, "
                     "default",
                     f"topdir {hub.topdir}: {hub.topdir}/repos is readable",
                     "free space in workdir ", "free space in podman's storage /",
                     "engine podman: podman ",
                     "default image localhost/adjutant-buildroot:bookworm: present",
                     "image policies: 1 build tag(s) of 1 target(s); adjutant_image_policy "
                     "on f-build (1 rules)"):
        assert expected in ok, proc.stdout
    # The checks run in the documented order.
    order = [ln.split()[1] for ln in lines(proc, "ok")]
    assert order[:5] == ["config", "hub", "login", "host", "topdir"], proc.stdout
    # The doctor's login session is closed again.
    assert all(s["closed"] for s in hub.sessions(HOST))


def test_good_setup_on_docker(doctor: Doctor) -> None:
    for _ in engine_with_default_image("docker"):
        proc = doctor(runtime="docker")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "free space in docker's storage /" in proc.stdout
    assert "ok   engine docker: docker " in proc.stdout


def test_json_report(doctor: Doctor) -> None:
    proc = doctor("--json", kojid={"password": "wrong"})
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    by_check = {c["check"]: c for c in report["checks"]}
    assert [c["check"] for c in report["checks"]][:4] == ["config", "hub", "login", "host"]
    assert by_check["login"]["status"] == "FAIL"
    assert "user and password" in by_check["login"]["fix"]
    assert by_check["host"]["status"] == "skip"
    assert by_check["engine"]["status"] == "ok"


def test_running_worker_is_not_disturbed(doctor: Doctor, hub: FakeHub) -> None:
    """A worker holds the host's exclusive session: the doctor's login still proves the
    credentials, and the worker's session keeps working afterwards."""
    worker = hub.client(HOST, PASSWORD, exclusive=True)
    proc = doctor()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "a running worker holds the host's exclusive session (left alone)" in proc.stdout
    assert f"ok   host {HOST}: enabled" in proc.stdout
    assert worker.host.getID() == hub.host(1)["id"]
    worker.logout()


# -- the five broken set-ups the issue lists --------------------------------------------

def test_wrong_password(doctor: Doctor) -> None:
    proc = doctor(kojid={"password": "wrong"})
    line = one_failure(proc, f"login as {HOST} (password)")
    assert "invalid username or password" in line
    assert "-> fix: check [kojid] user and password" in line
    # What needs the login is skipped, the rest is still checked.
    assert any(ln.startswith("skip host") for ln in lines(proc, "skip")), proc.stdout
    assert "ok   engine podman" in proc.stdout


def test_hub_down(doctor: Doctor, hub: FakeHub) -> None:
    url = hub.url
    hub.stop()
    proc = doctor(kojid={"server": url})
    line = one_failure(proc, f"hub {url} unreachable")
    assert "Connection refused" in line
    assert line.endswith("-> fix: check [kojid] server, network, the hub's httpd")
    skipped = "\n".join(lines(proc, "skip"))
    for check in ("login", "host", "image policies"):
        assert f"skip {check}: needs a hub that answers" in skipped, proc.stdout


def test_engine_down(doctor: Doctor, tmp_path: Path) -> None:
    socket = tmp_path / "no-such-dir" / "podman.sock"
    proc = doctor(adjutant_values={"podman_url": f"unix://{socket}",
                                   "podman_start_service": "true"})
    line = one_failure(proc, "engine podman")
    assert f"no podman service answers at unix://{socket}" in line
    assert "-> fix: start the podman API service" in line
    assert "podman_url" in line
    # The doctor never starts an engine service, whatever podman_start_service says.
    assert not socket.exists() and not socket.parent.exists()
    skipped = "\n".join(lines(proc, "skip"))
    assert "skip free space in the engine's storage" in skipped
    assert "skip default image: needs an engine that answers" in skipped


def test_topdir_missing(doctor: Doctor, tmp_path: Path) -> None:
    topdir = tmp_path / "mnt" / "koji"
    proc = doctor(kojid={"topdir": topdir})
    line = one_failure(proc, f"topdir {topdir}")
    assert f"{topdir}/repos is missing" in line
    assert "this host is in channel createrepo" in line
    assert (f"-> fix: mount the hub's topdir read-only at {topdir} (NFS), or createrepo "
            "tasks are refused and buildroots come over topurl") in line


def test_disk_below_minspace(doctor: Doctor, tmp_path: Path) -> None:
    proc = doctor(kojid={"minspace": 10**9})
    assert proc.returncode == 1, proc.stdout
    failures = lines(proc, "FAIL")
    assert [ln.split(":")[0] for ln in failures] == [
        f"FAIL free space in workdir {tmp_path / 'work'}",
        "FAIL free space in podman's storage /var/lib/containers/storage",
    ], proc.stdout
    assert all("minspace 1000000000 MB" in ln for ln in failures)
    assert "lower [kojid] minspace" in failures[0]
    assert "image prune" in failures[1]


# -- more broken set-ups ----------------------------------------------------------------

def test_config_error_names_the_key_and_skips_the_rest(doctor: Doctor) -> None:
    proc = doctor(kojid={"maxjobs": "many"})
    line = one_failure(proc, "config ")
    assert "[kojid] maxjobs = 'many': expected a whole number" in line
    assert "-> fix: correct that key" in line
    assert len(lines(proc, "skip")) >= 8, proc.stdout


def test_missing_config_file(tmp_path: Path) -> None:
    proc = adjutant("doctor", "-c", tmp_path / "nope.conf")
    line = one_failure(proc, f"config {tmp_path / 'nope.conf'}")
    assert "-> fix: pass the worker's kojid.conf with -c" in line


def test_disabled_host(doctor: Doctor, hub: FakeHub) -> None:
    hub.set_host(1, enabled=False)
    line = one_failure(doctor(), f"host {HOST}")
    assert "disabled on the hub" in line and line.endswith(f"-> fix: koji enable-host {HOST}")


def test_host_in_no_channel(doctor: Doctor, hub: FakeHub) -> None:
    hub.set_host(1, channels=[])
    line = one_failure(doctor(), f"host {HOST}")
    assert "in no channel" in line
    assert line.endswith(f"-> fix: koji add-host-to-channel {HOST} default")


def test_malformed_policy_names_the_tag(doctor: Doctor, hub: FakeHub) -> None:
    hub.add_tag("g-build", extra={"adjutant_image_policy": {"rules": [{"type": "tag"}]}})
    hub.add_target("g", "g-build", "f-dest")
    line = one_failure(doctor(), "image policy of tag g-build")
    assert "rule 1 (tag) has no image" in line
    assert "koji edit-tag g-build -r adjutant_image_policy" in line


def test_absent_image_by_pull_policy(doctor: Doctor) -> None:
    ref = "localhost/adjutant-doctor-absent:never-built"
    never = doctor(adjutant_values={"task_image_default": ref, "image_pull_policy": "never"})
    line = one_failure(never, f"default image {ref}")
    assert "absent, and image_pull_policy is never" in line
    assert "podman pull " in line
    later = doctor(adjutant_values={"task_image_default": ref,
                                    "image_pull_policy": "if-not-present"})
    assert later.returncode == 0, later.stdout
    assert (f"warn default image {ref}: absent; will be pulled on first use "
            "(policy if-not-present)") in later.stdout


# -- emulated arches --------------------------------------------------------------------

@pytest.fixture
def aarch64_image(engine_name: str) -> Iterator[str]:
    from adjutant.testing.engines import engine_with_arch_image

    for _runtime, ref in engine_with_arch_image(engine_name, "aarch64"):
        yield ref


def test_an_emulated_arch_the_hub_lacks(doctor: Doctor, aarch64_image: str) -> None:
    line = one_failure(doctor(adjutant_values={"emulated_arches": "aarch64"}),
                       f"host {HOST} arches")
    assert "emulated_arches has aarch64, which the hub's entry lacks (x86_64 noarch)" in line
    assert line.endswith(f'-> fix: koji edit-host --arches="x86_64 noarch aarch64" {HOST}')


def test_an_emulated_arch_that_runs(doctor: Doctor, hub: FakeHub, aarch64_image: str) -> None:
    hub.set_host(1, arches=["x86_64", "aarch64", "noarch"])
    proc = doctor(adjutant_values={"emulated_arches": "aarch64"})
    assert proc.returncode == 0, proc.stdout
    assert f"ok   host {HOST} arches: include the emulated aarch64" in proc.stdout
    assert f"ok   emulated arch aarch64: a linux/arm64 container of {aarch64_image} runs" \
        in proc.stdout


def test_a_foreign_hub_arch_this_host_does_not_emulate(doctor: Doctor, hub: FakeHub) -> None:
    hub.set_host(1, arches=["x86_64", "ppc64le", "noarch"])
    proc = doctor()
    assert proc.returncode == 0, proc.stdout
    (warning,) = [ln for ln in lines(proc, "warn") if f"host {HOST} arches" in ln]
    assert "the hub lists ppc64le, which this host neither runs natively nor emulates" \
        in warning
    assert "add ppc64le to [adjutant] emulated_arches" in warning
