"""Buildroots from the tag's repo: groups and BuildRequires installed by dnf, macros from
the hub, hub listings, and the buildroot cache."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from adjutant.container.runtime import ContainerRuntime
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.kojirepo import GROUPS, make_koji_repo, metadata_fetches, package_spec
from tests.support.kojisetup import build_arch_task, make_srpm, upload_srpm, wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]

# %build proves the BuildRequires are really there (and which version), as the build user.
NEEDS_TOOL = package_spec(
    "needs-tool", build_requires=["adjutant-tool"],
    build_check="cat /usr/share/adjutant-tool/marker /usr/share/adjutant-dep/marker; id -u")


@pytest.fixture(scope="module")
def needs_tool_srpm(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_srpm(NEEDS_TOOL, tmp_path_factory.mktemp("needs-tool"))


def markers(build_log: str) -> tuple[str, ...]:
    """(tool version, dep version, build uid) as %build printed them. The engine reads
    stdout and stderr apart, so the shell's trace (stderr) may land before or after them:
    only %build's stdout lines that look like a marker count, in their (stdout) order."""
    lines = build_log.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Executing(%build)"))
    wanted = re.compile(r"^(\d+\.\d+-\d+|\d+)$")
    return tuple([line for line in lines[start + 1:] if wanted.match(line)][:3])


def log_of(hub: FakeHub, task_id: int, name: str) -> str:
    return hub.work_path(f"{koji.pathinfo.taskrelpath(task_id)}/{name}").read_text()


def listing(hub: FakeHub, task_id: int) -> list[tuple[str, bool]]:
    return hub.buildroot(hub.task_result(task_id)["brootid"])["listing"]


def test_build_requires_from_the_tag_repo_are_installed_and_listed(
        hub: FakeHub, build_tag: dict[str, Any], needs_tool_srpm: Path,
        start_worker: StartWorker) -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, needs_tool_srpm), build_tag)
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    build_log = log_of(hub, task_id, "build.log")
    assert markers(build_log) == ("1.0-1", "1.0-1", "1000")  # built as the build user
    assert sorted(listing(hub, task_id)) == [
        ("adjutant-buildsys-1.0-1.noarch", False),  # the build group: setBuildRootList
        ("adjutant-dep-1.0-1.noarch", True),        # BuildRequires: updateBuildRootList
        ("adjutant-tool-1.0-1.noarch", True),
    ]
    root_log = log_of(hub, task_id, "root.log")
    assert "installing group build" in root_log
    assert "left out of the hub's buildroot listing (provided by the image" in root_log
    assert "adjutant-base-provides" in root_log


def test_a_missing_dependency_fails_with_dnfs_nothing_provides(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        needs_tool_srpm: Path, start_worker: StartWorker) -> None:
    hub.add_tag("broken-build", arches="x86_64")
    repo_id = make_koji_repo(hub, podman_runtime, "broken-build",
                             [repo_packages["buildsys"], repo_packages["tool"]], GROUPS)
    tag = {"name": "broken-build", "repo_id": repo_id}
    task_id = build_arch_task(hub, upload_srpm(hub, needs_tool_srpm), tag)
    start_worker()
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError) as err:
        hub.task_result(task_id)
    assert "nothing provides adjutant-dep needed by adjutant-tool-1.0-1.noarch" in str(err.value)
    assert "buildroot installation from repo" in str(err.value)


def test_dist_from_the_tag_extra_names_the_rpms(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        tmp_path: Path, start_worker: StartWorker) -> None:
    hub.add_tag("el9-build", arches="x86_64", extra={"rpm.macro.dist": ".el9adj"})
    repo_id = make_koji_repo(hub, podman_runtime, "el9-build", [repo_packages["buildsys"]],
                             GROUPS)
    srpm = make_srpm(package_spec("dist-test", release="1%{?dist}"), tmp_path / "dist")
    task_id = build_arch_task(hub, upload_srpm(hub, srpm),
                              {"name": "el9-build", "repo_id": repo_id})
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    result = hub.task_result(task_id)
    assert [Path(p).name for p in result["rpms"]] == ["dist-test-1.0-1.el9adj.noarch.rpm"]
    assert [Path(p).name for p in result["srpms"]] == ["dist-test-1.0-1.el9adj.src.rpm"]


def test_the_same_dependencies_hit_the_cache_and_run_no_dnf(
        hub: FakeHub, build_tag: dict[str, Any], needs_tool_srpm: Path, tmp_path: Path,
        start_worker: StartWorker, podman_runtime: ContainerRuntime) -> None:
    srpm_rel = upload_srpm(hub, needs_tool_srpm)
    first = build_arch_task(hub, srpm_rel, build_tag)
    worker = start_worker()
    assert wait_task(hub, first)["state_name"] == "CLOSED", worker.log()[-3000:]
    second = build_arch_task(hub, srpm_rel, build_tag)
    assert wait_task(hub, second)["state_name"] == "CLOSED", worker.log()[-3000:]
    cold, warm = log_of(hub, first, "root.log"), log_of(hub, second, "root.log")
    assert "installing group build" in cold and "buildroot cache hit" not in cold
    assert "buildroot cache hit" in warm
    assert "installing" not in warm and "Dependencies resolved" not in warm  # no dnf at all
    assert sorted(listing(hub, second)) == sorted(listing(hub, first))
    assert markers(log_of(hub, second, "build.log")) == ("1.0-1", "1.0-1", "1000")

    listed = adjutant("cache", "list", "--json", "--cache-dir", tmp_path / "worker-builder1"
                      / "cache")
    # Two layers: the build group's buildroot, and the requirements on top of it.
    entries = {tuple(e["requirements"]): e for e in json.loads(listed.stdout)}
    assert sorted(entries) == [(), ("adjutant-tool",)]
    group, full = entries[()], entries[("adjutant-tool",)]
    assert group["repo_id"] == full["repo_id"] == build_tag["repo_id"]
    assert group["installed"] == ["adjutant-buildsys-1.0-1.noarch"]
    assert full["installed"] == ["adjutant-buildsys-1.0-1.noarch",
                                 "adjutant-dep-1.0-1.noarch", "adjutant-tool-1.0-1.noarch"]
    assert full["hits"] == 1 and group["hits"] == 0
    assert full["parent_id"] == group["image_id"] and group["parent_id"] == ""
    assert full["shared_size"] == group["size"] and 0 < full["own_size"] < full["size"]
    for entry in entries.values():
        assert podman_runtime.image_id(entry["image"]) == entry["image_id"]
    table = adjutant("cache", "list", "--cache-dir", tmp_path / "worker-builder1" / "cache")
    assert f"{group['key'][:12]} " in table.stdout.splitlines()[2] \
        or f"{group['key'][:12]} " in table.stdout.splitlines()[1]
    assert "2 cached buildroots:" in table.stdout

    pruned = adjutant("cache", "prune", "--all", "--runtime", "podman", "--cache-dir",
                      tmp_path / "worker-builder1" / "cache")
    assert pruned.returncode == 0, pruned.stderr
    assert "2 evicted, 0 kept" in pruned.stdout
    for entry in entries.values():
        assert podman_runtime.image_id(entry["image"]) is None

def test_a_near_miss_installs_only_the_missing_requirement_on_the_closest_buildroot(
        hub: FakeHub, build_tag: dict[str, Any], needs_tool_srpm: Path, tmp_path: Path,
        start_worker: StartWorker, podman_runtime: ContainerRuntime) -> None:
    needs_dep = make_srpm(package_spec("needs-dep", build_requires=["adjutant-dep"]),
                          tmp_path / "needs-dep")
    first = build_arch_task(hub, upload_srpm(hub, needs_dep), build_tag)
    worker = start_worker()
    assert wait_task(hub, first)["state_name"] == "CLOSED", worker.log()[-3000:]
    # adjutant-dep and adjutant-tool: one more requirement than the cached buildroot.
    both = make_srpm(package_spec("needs-both", build_requires=["adjutant-dep",
                                                                 "adjutant-tool"]),
                     tmp_path / "needs-both")
    second = build_arch_task(hub, upload_srpm(hub, both), build_tag)
    assert wait_task(hub, second)["state_name"] == "CLOSED", worker.log()[-3000:]
    root_log = log_of(hub, second, "root.log")
    # The repo id's metadata was fetched once on this host, by the first task's makecache
    # container: its two install layers and the near miss started from that cache.
    first_log = log_of(hub, first, "root.log")
    assert metadata_fetches(first_log) == 1, first_log
    assert first_log.count("caching the repos' metadata on this host") == 1
    assert first_log.count("starting from this host's cached metadata") == 2
    assert metadata_fetches(root_log) == 0, root_log
    assert "starting from this host's cached metadata" in root_log
    assert "buildroot cache near miss" in root_log
    assert "installing only adjutant-tool" in root_log
    assert "installing group build" not in root_log
    assert "adjutant: installing build requirements: adjutant-tool\n" in root_log
    # Listed as a cold preparation would list them: the group's, then the requirements.
    assert sorted(listing(hub, second)) == [
        ("adjutant-buildsys-1.0-1.noarch", False), ("adjutant-dep-1.0-1.noarch", True),
        ("adjutant-tool-1.0-1.noarch", True)]
    entries = json.loads(adjutant("cache", "list", "--json", "--cache-dir",
                                  tmp_path / "worker-builder1" / "cache").stdout)
    by_reqs = {tuple(sorted(e["requirements"])): e for e in entries}
    assert sorted(by_reqs) == [(), ("adjutant-dep",), ("adjutant-dep", "adjutant-tool")]
    assert by_reqs[("adjutant-dep", "adjutant-tool")]["parent_id"] == \
        by_reqs[("adjutant-dep",)]["image_id"]
    assert podman_runtime.image_id(by_reqs[()]["image"]) == by_reqs[()]["image_id"]
    # Each layer's package-manager cache (metadata, downloaded packages) was removed
    # before it was committed: no cached buildroot carries one.
    for entry in entries:
        assert _package_manager_cache(podman_runtime, entry["image"]) == "", entry


def _package_manager_cache(runtime: ContainerRuntime, image: str) -> str:
    """The files under the package managers' cache directories in ``image``."""
    from adjutant.container.run import run_container
    from adjutant.container.spec import ContainerSpec

    output: list[bytes] = []
    result = run_container(runtime, ContainerSpec(image, (
        "sh", "-c", "find /var/cache/dnf /var/cache/yum /var/cache/libdnf5 "
                    "/var/tmp/adjutant-pm-cache -mindepth 1 2>/dev/null; true")),
        lambda _s, data: output.append(data))
    assert result.ok
    return b"".join(output).decode()


def builds_before_and_after_a_new_dep(
        hub: FakeHub, build_tag: dict[str, Any], repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, srpm: Path, start_worker: StartWorker) \
        -> tuple[int, int]:
    """Two CLOSED buildArch tasks of ``srpm`` (NEEDS_TOOL): one on the tag's repo with
    adjutant-dep 1.0, one on a newer repo with adjutant-dep 2.0 and nothing else changed."""
    srpm_rel = upload_srpm(hub, srpm)
    first = build_arch_task(hub, srpm_rel, build_tag)
    worker = start_worker()
    assert wait_task(hub, first)["state_name"] == "CLOSED", worker.log()[-3000:]
    newer = make_koji_repo(hub, podman_runtime, "f-build",
                           [repo_packages[k] for k in ("buildsys", "dep-2", "tool")], GROUPS)
    second = build_arch_task(hub, srpm_rel, {"name": "f-build", "repo_id": newer})
    assert wait_task(hub, second)["state_name"] == "CLOSED", worker.log()[-3000:]
    return first, second


def test_a_new_repo_misses_the_cache_and_installs_the_newer_package(
        hub: FakeHub, build_tag: dict[str, Any], repo_packages: dict[str, Path],
        podman_runtime: ContainerRuntime, needs_tool_srpm: Path,
        start_worker: StartWorker) -> None:
    _, second = builds_before_and_after_a_new_dep(hub, build_tag, repo_packages,
                                                  podman_runtime, needs_tool_srpm, start_worker)
    assert "buildroot cache hit" not in log_of(hub, second, "root.log")
    assert ("adjutant-dep-2.0-1.noarch", True) in listing(hub, second)
    assert markers(log_of(hub, second, "build.log")) == ("1.0-1", "2.0-1", "1000")


def test_two_tasks_wanting_one_buildroot_at_once_install_it_once(
        hub: FakeHub, build_tag: dict[str, Any], needs_tool_srpm: Path,
        start_worker: StartWorker) -> None:
    srpm_rel = upload_srpm(hub, needs_tool_srpm)
    tasks = [build_arch_task(hub, srpm_rel, build_tag) for _ in range(2)]
    worker = start_worker()
    for task_id in tasks:
        assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    logs = [log_of(hub, t, "root.log") for t in tasks]
    assert sum("installing group build" in text for text in logs) == 1
    assert sum("buildroot cache hit" in text for text in logs) == 1


def test_buildroot_disabled_uses_the_image_as_it_is(
        hub: FakeHub, build_tag: dict[str, Any], hello_srpm: Path,
        start_worker: StartWorker) -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, hello_srpm), build_tag)
    worker = start_worker(adjutant={"buildroot_enabled": "false"})
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    assert "buildroot_enabled is off" in log_of(hub, task_id, "root.log")
    assert listing(hub, task_id) == []


def test_the_repo_can_come_over_topurl_instead_of_a_mount(
        hub: FakeHub, build_tag: dict[str, Any], needs_tool_srpm: Path, tmp_path: Path,
        start_worker: StartWorker) -> None:
    task_id = build_arch_task(hub, upload_srpm(hub, needs_tool_srpm), build_tag)
    # No topdir on this host: the repo is fetched from the hub's topurl, which listens on
    # the host's loopback, hence the host network for the install phase.
    worker = start_worker(kojid={"topdir": tmp_path / "no-topdir"},
                          adjutant={"install_network": "host"})
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    root_log = log_of(hub, task_id, "root.log")
    assert re.search(r"installing from repo \d+ \(http://127\.0\.0\.1:\d+/kojifiles/repos/",
                     root_log)
    assert ("adjutant-tool-1.0-1.noarch", True) in listing(hub, task_id)


def test_packages_from_an_external_repo_are_listed_with_that_repo(
        hub: FakeHub, repo_packages: dict[str, Path], podman_runtime: ContainerRuntime,
        needs_tool_srpm: Path, start_worker: StartWorker) -> None:
    # adjutant-dep comes only from the tag's external repo, merged into the tag's repo.
    hub.add_tag("ext-build", arches="x86_64")
    repo_id = make_koji_repo(hub, podman_runtime, "ext-build",
                             [repo_packages["buildsys"], repo_packages["tool"]], GROUPS,
                             external={"upstream": [repo_packages["dep-1"]]})
    task_id = build_arch_task(hub, upload_srpm(hub, needs_tool_srpm),
                              {"name": "ext-build", "repo_id": repo_id})
    worker = start_worker()
    assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    assert markers(log_of(hub, task_id, "build.log")) == ("1.0-1", "1.0-1", "1000")
    rows = hub.client().getBuildrootListing(hub.task_result(task_id)["brootid"])
    origins = sorted((f"{r['name']}-{r['version']}-{r['release']}.{r['arch']}",
                      r["external_repo_name"], r["is_update"]) for r in rows)
    assert origins == [
        ("adjutant-buildsys-1.0-1.noarch", "INTERNAL", False),
        ("adjutant-dep-1.0-1.noarch", "upstream", True),
        ("adjutant-tool-1.0-1.noarch", "INTERNAL", True),
    ]
    assert "from external repos: adjutant-dep-1.0-1.noarch (upstream)" in \
        log_of(hub, task_id, "root.log")
