"""Finding a container's memory cgroup from its pid, and reading its OOM-kill count."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjutant.build.sizes import format_size, parse_size
from adjutant.container.cgroups import MemoryCgroup, find_memory_cgroup

CID = "0123456789abcdef" * 4


def _proc(tmp_path: Path, cgroup_lines: str, mountinfo: str) -> Path:
    proc = tmp_path / "proc"
    (proc / "42").mkdir(parents=True)
    (proc / "self").mkdir()
    (proc / "42" / "cgroup").write_text(cgroup_lines)
    (proc / "self" / "mountinfo").write_text(mountinfo)
    return proc


def test_hybrid_host_uses_the_v1_memory_controller(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    (memory / "libpod_parent" / f"libpod-{CID}").mkdir(parents=True)
    control = memory / "libpod_parent" / f"libpod-{CID}" / "memory.oom_control"
    control.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    path = f"/libpod_parent/libpod-{CID}"
    proc = _proc(tmp_path, f"4:memory:{path}\n0::{path}\n",
                 f"35 31 0:32 / {memory} rw,relatime - cgroup cgroup rw,memory\n"
                 f"41 31 0:38 / {tmp_path / 'unified'} rw - cgroup2 cgroup2 rw\n")
    found = find_memory_cgroup(42, CID, proc)
    assert found == MemoryCgroup(control.parent, 1) and found.oom_kills() == 2


def test_unified_host_reads_memory_events(tmp_path: Path) -> None:
    unified = tmp_path / "unified"
    (unified / "system.slice" / f"docker-{CID}.scope").mkdir(parents=True)
    events = unified / "system.slice" / f"docker-{CID}.scope" / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    proc = _proc(tmp_path, f"0::/system.slice/docker-{CID}.scope\n",
                 f"30 23 0:26 / {unified} rw - cgroup2 cgroup2 rw\n")
    found = find_memory_cgroup(42, CID, proc)
    assert found == MemoryCgroup(events.parent, 2) and found.oom_kills() == 1
    events.parent.joinpath("memory.events").unlink()
    assert found.oom_kills() is None  # gone with the container


def test_a_pid_whose_cgroup_is_not_the_containers_is_refused(tmp_path: Path) -> None:
    unified = tmp_path / "unified"
    (unified / "user.slice").mkdir(parents=True)
    (unified / "user.slice" / "memory.events").write_text("oom_kill 0\n")
    proc = _proc(tmp_path, "0::/user.slice\n",
                 f"30 23 0:26 / {unified} rw - cgroup2 cgroup2 rw\n")
    assert find_memory_cgroup(42, CID, proc) is None
    assert find_memory_cgroup(4242, CID, proc) is None  # no such process here


@pytest.mark.parametrize(("text", "size"), [("1048576", 1 << 20), ("512M", 512 << 20),
                                            ("2g", 2 << 30), ("64MiB", 64 << 20)])
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_bad_sizes_and_formatting() -> None:
    for bad in ("", "0", "12X", "-1M", "1.5G"):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert [format_size(n) for n in (64 << 20, 1536 << 10, 1000)] == ["64M", "1536K", "1000"]
