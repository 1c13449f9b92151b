"""Setting up Koji-side fixtures for end-to-end tests: SRPMs, uploads, waiting on tasks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub
from tests.support.worker import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello" / "adjutant-hello.spec"


def make_srpm(spec_text: str, out: Path, sources: dict[str, str] | None = None) -> Path:
    """Build an SRPM from ``spec_text`` with ``adjutant build --srpm-only`` (real rpmbuild)."""
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)
    spec = src / "pkg.spec"
    spec.write_text(spec_text)
    for name, text in (sources or {}).items():
        (src / name).write_text(text)
    proc = adjutant("build", spec, "-o", out / "built", "--runtime", "podman", "--srpm-only")
    assert proc.returncode == 0, proc.stderr
    (srpm,) = (out / "built").glob("*.src.rpm")
    return srpm


def upload_srpm(hub: FakeHub, srpm: Path, subdir: str = "cli-build/1.test") -> str:
    """Put an SRPM where ``koji build`` uploads it; return its work-relative path."""
    dest = hub.work_path(subdir)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(srpm, dest / srpm.name)
    return f"{subdir}/{srpm.name}"


def wait_task(hub: FakeHub, task_id: int, states: tuple[str, ...] = ("CLOSED", "FAILED"),
              timeout: float = 120) -> dict[str, Any]:
    """Wait until the task reaches one of ``states``; return its row."""
    return wait_for(lambda: (t := hub.task(task_id))["state_name"] in states and t,
                    timeout, message=f"task {task_id} to reach {states}")


def new_repo(hub: FakeHub, tag: str) -> int:
    """Regenerate ``tag``'s repo as kojira would (a newRepo task, for a running worker
    with the createrepo channel) → the new repo's id."""
    task_id = hub.make_task("newRepo", [tag], channel="createrepo")
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "CLOSED"
    repo_id: int = hub.task_result(task_id)[0]
    return repo_id


def build_arch_task(hub: FakeHub, srpm_rel: str, tag: dict[str, Any], arch: str = "noarch",
                    keep_srpm: bool = True) -> int:
    """A buildArch task as the parent build task would create it."""
    return hub.make_task("buildArch", [srpm_rel, tag["name"], arch, keep_srpm,
                                       {"repo_id": tag["repo_id"]}], arch=arch)
