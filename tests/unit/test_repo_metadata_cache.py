"""The host's repo metadata cache on disk (adjutant.buildroot.repometa): keys, readiness,
pruning by use, and removal that never follows a link a makecache container wrote."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from adjutant.buildroot.repometa import RepoMetadataCache

REPO = "[koji]\nname=Koji repo 7 (x86_64)\nbaseurl=file:///mnt/koji/repos/f-build/7/x86_64\n"


def test_the_key_follows_the_repo_file_and_the_options() -> None:
    key = RepoMetadataCache.key(REPO, "")
    assert key == RepoMetadataCache.key(REPO, "")
    assert key != RepoMetadataCache.key(REPO.replace("/7/", "/8/"), "")
    assert key != RepoMetadataCache.key(REPO, "dnf5")


def test_an_entry_is_ready_only_with_the_hosts_stamp(tmp_path: Path) -> None:
    cache = RepoMetadataCache(tmp_path)
    key = cache.key(REPO, "")
    entry = cache.empty_entry(key)
    (entry / "koji.solv").write_bytes(b"x")
    assert not cache.ready(key)
    cache.mark_ready(key)
    assert cache.ready(key)
    # A fill that starts again (the stamp lost) begins from an empty directory.
    cache.empty_entry(key)
    assert not cache.ready(key)
    assert list(cache.path(key).iterdir()) == []


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    cache = RepoMetadataCache(tmp_path)
    keys = [cache.key(REPO, str(i)) for i in range(4)]
    now = time.time()
    for age, key in enumerate(keys):
        cache.empty_entry(key)
        cache.mark_ready(key)
        os.utime(tmp_path / "repometa" / f"{key}.ready", (now - 100 * age,) * 2)
    cache.touch(keys[3])  # the oldest, used again just now
    assert cache.prune(2) == [keys[1], keys[2]]
    assert cache.entries() == [keys[3], keys[0]]
    assert not cache.path(keys[1]).exists()


def test_removing_an_entry_leaves_what_its_links_point_to(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    cache = RepoMetadataCache(tmp_path / "cache")
    key = cache.key(REPO, "")
    entry = cache.empty_entry(key)
    (entry / "dir-link").symlink_to(outside)
    (entry / "file-link").symlink_to(outside / "precious")
    cache.mark_ready(key)
    cache.discard(key)
    assert not entry.exists() and not cache.ready(key)
    assert (outside / "precious").read_text() == "keep me"


def test_a_stamp_another_task_pruned_meanwhile_is_passed_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = RepoMetadataCache(tmp_path)
    key = cache.key(REPO, "")
    cache.empty_entry(key)
    cache.mark_ready(key)
    real_glob = Path.glob
    gone = tmp_path / "repometa" / "0123.ready"  # listed, then removed before its stat

    def glob(self: Path, pattern: str) -> list[Path]:
        return [gone, *real_glob(self, pattern)]

    real_is_file = Path.is_file
    monkeypatch.setattr(Path, "glob", glob)
    # Still there when looked at, gone by the time its time is read.
    monkeypatch.setattr(Path, "is_file", lambda self: self == gone or real_is_file(self))
    assert cache.entries() == [key]
    assert cache.prune(0) == [key]
