"""A build that fills its disk: the failure says so, with figures; nothing is kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from adjutant.build.rpmbuild import explain_failure
from adjutant.worker import diskspace, failed

FULL_LOG = ("Executing(%build)\n+ dd if=/dev/zero of=big bs=1M\n"
            "dd: error writing 'big': No space left on device\n"
            "error: Bad exit status from /builddir/tmp/rpm-tmp.x (%build)\n")


class _StatVfs:
    def __init__(self, free_mb: int) -> None:
        self.f_bavail = free_mb * 256
        self.f_frsize = 4096


@pytest.fixture
def free_mb(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The free MB every statvfs reports: set ``free_mb["value"]``."""
    setting = {"value": 100}
    monkeypatch.setattr(os, "statvfs", lambda _path: _StatVfs(setting["value"]))
    return setting


def test_a_full_disk_is_named_before_the_step_it_broke() -> None:
    failure = explain_failure(FULL_LOG, 1, False)
    assert failure.step == "disk"
    assert failure.summary.startswith("no space left on device")
    assert "No space left on device" in failure.tail


def test_a_timeout_still_wins_and_other_failures_are_unchanged() -> None:
    assert explain_failure(FULL_LOG, -1, True, timeout=5).step == "timeout"
    assert explain_failure(FULL_LOG.replace("No space left on device", "I/O error"),
                           1, False).step == "%build"


def test_free_space_figures(free_mb: dict[str, int]) -> None:
    free_mb["value"] = 3
    assert diskspace.free_mb("/w") == 3
    assert diskspace.full_disk_detail("/w", 16) == "/w: 3 MB free, minspace 16 MB"
    assert diskspace.short_of_space("/w", 16) == "/w has 3 MB free, below minspace (16 MB)"
    assert diskspace.short_of_space("/w", 3) is None
    free_mb["value"] = 0
    assert diskspace.short_of_space("/w", 0) is not None  # full, whatever minspace says


def test_unreadable_paths_are_not_short_of_space(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_path: Any) -> None:
        raise FileNotFoundError(_path)
    monkeypatch.setattr(os, "statvfs", refuse)
    assert diskspace.free_mb("/nowhere") is None
    assert diskspace.short_of_space("/nowhere", 16) is None
    assert diskspace.full_disk_detail("/nowhere", 16) == "/nowhere: ? MB free, minspace 16 MB"


def test_a_failed_build_is_not_kept_when_it_filled_the_disk_or_space_is_short(
        tmp_path: Path, free_mb: dict[str, int]) -> None:
    build_log = tmp_path / "build.log"
    build_log.write_text(FULL_LOG)
    assert "no space left on device" in str(failed.reason_not_to_keep(tmp_path, 16, build_log))
    build_log.write_text("error: Bad exit status from /x (%build)\n")
    assert failed.reason_not_to_keep(tmp_path, 16, build_log) is None
    free_mb["value"] = 10
    assert "below minspace" in str(failed.reason_not_to_keep(tmp_path, 16, build_log))
    free_mb["value"] = 100
    assert failed.reason_not_to_keep(tmp_path, 16, tmp_path / "missing.log") is None
