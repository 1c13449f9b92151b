"""Removing a task's work dir in the task process (no fork), links never followed."""

import os
from pathlib import Path

import koji.tasks
import pytest

from adjutant.worker.workdir import mount_points, remove_workdir


def _mountinfo(tmp_path: Path, *points: str) -> str:
    lines = [f"{n} 1 0:{n} / {p} rw - ext4 /dev/x rw\n" for n, p in enumerate(points, 30)]
    path = tmp_path / "mountinfo"
    path.write_text("".join(lines))
    return str(path)


@pytest.fixture
def no_koji_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_a: object, **_k: object) -> None:
        raise AssertionError("koji's forked removal was used")

    monkeypatch.setattr(koji.tasks, "safe_rmtree", forbidden)


def test_the_tree_goes_and_links_out_of_it_are_not_followed(
        tmp_path: Path, no_koji_fork: None) -> None:
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "keep").write_text("host file")
    work = tmp_path / "tasks" / "1"
    (work / "build" / "BUILD" / "deep").mkdir(parents=True)
    (work / "build" / "BUILD" / "deep" / "f").write_text("x")
    (work / "build" / "to-host-dir").symlink_to(outside)
    (work / "build" / "to-host-file").symlink_to(outside / "keep")
    (work / "logs").mkdir()
    (work / "logs" / "build.log").write_text("log")
    remove_workdir(str(work), _mountinfo(tmp_path, "/", "/proc"))
    assert not work.exists()
    assert (outside / "keep").read_text() == "host file"


def test_a_missing_dir_is_no_error_and_a_file_or_link_is_removed(
        tmp_path: Path, no_koji_fork: None) -> None:
    remove_workdir(str(tmp_path / "absent"))
    target = tmp_path / "target"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    remove_workdir(str(link))
    assert not link.is_symlink() and target.is_dir()


def test_with_a_mount_under_the_dir_kojis_one_filesystem_walk_removes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "tasks" / "2"
    (work / "mnt point").mkdir(parents=True)
    used: list[str] = []
    monkeypatch.setattr(koji.tasks, "safe_rmtree",
                        lambda path, unmount, strict: used.append(path))
    info = _mountinfo(tmp_path, "/", str(work / "mnt point").replace(" ", "\\040"))
    assert str(work / "mnt point") in mount_points(info)
    remove_workdir(str(work), info)
    assert used == [str(work)]


def test_a_mount_beside_the_dir_is_not_under_it(tmp_path: Path, no_koji_fork: None) -> None:
    work = tmp_path / "tasks" / "3"
    work.mkdir(parents=True)
    remove_workdir(str(work), _mountinfo(tmp_path, str(tmp_path / "tasks" / "30")))
    assert not work.exists()


def test_a_tree_deeper_than_path_max_is_removed(tmp_path: Path, no_koji_fork: None) -> None:
    """A build can nest directories thousands deep: shutil.rmtree recurses once a level
    and gives up; koji's walk takes minutes past PATH_MAX. Removed here all the same."""
    work = tmp_path / "tasks" / "4"
    work.mkdir(parents=True)
    fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(3000):
            os.mkdir("d", dir_fd=fd)
            deeper = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = deeper
    finally:
        os.close(fd)
    remove_workdir(str(work), _mountinfo(tmp_path, "/"))
    assert not work.exists()


def test_unreadable_mounts_leave_it_to_kojis_walk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "tasks" / "5"
    work.mkdir(parents=True)
    used: list[str] = []
    monkeypatch.setattr(koji.tasks, "safe_rmtree",
                        lambda path, unmount, strict: used.append(path))
    remove_workdir(str(work), str(tmp_path / "no-mountinfo"))
    assert used == [str(work)]
