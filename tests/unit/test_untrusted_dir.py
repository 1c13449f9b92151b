"""UntrustedDir: files a container wrote are read without following any link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from adjutant.container import untrusted
from adjutant.container.untrusted import UnsafeFile, UntrustedDir, private_dir

SECRET = "host-secret-7f3a9c: this must never leave the host\n"


@pytest.fixture
def host_file(tmp_path: Path) -> Path:
    path = tmp_path / "host" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = tmp_path / "build"
    (root / "RPMS").mkdir(parents=True)
    (root / "RPMS" / "good-1.0-1.noarch.rpm").write_bytes(b"rpm bytes")
    return root


def _all_bytes_under(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.rglob("*") if p.is_file()
                    and not p.is_symlink())


def test_regular_files_are_listed_and_copied(built: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    tree = UntrustedDir(built, lines.append)
    out = private_dir(tmp_path / "out")
    [copy] = tree.collect("RPMS", ".rpm", out)
    assert copy == out / "good-1.0-1.noarch.rpm"
    assert copy.read_bytes() == b"rpm bytes"
    assert tree.refusals == [] and lines == []


def test_a_link_to_a_host_file_is_refused_named_and_never_read(
        built: Path, host_file: Path, tmp_path: Path) -> None:
    (built / "RPMS" / "evil-1.0-1.noarch.rpm").symlink_to(host_file)
    lines: list[str] = []
    tree = UntrustedDir(built, lines.append)
    out = private_dir(tmp_path / "out")
    taken = tree.collect("RPMS", ".rpm", out)
    assert [p.name for p in taken] == ["good-1.0-1.noarch.rpm"]
    assert [r.relpath for r in tree.refusals] == ["RPMS/evil-1.0-1.noarch.rpm"]
    assert "a symbolic link" in lines[0] and "RPMS/evil-1.0-1.noarch.rpm" in lines[0]
    assert SECRET.encode() not in _all_bytes_under(out)
    with pytest.raises(UnsafeFile, match="a symbolic link"):
        tree.read_bytes("RPMS/evil-1.0-1.noarch.rpm")


def test_a_link_in_place_of_a_directory_is_not_followed(
        tmp_path: Path, host_file: Path) -> None:
    root = tmp_path / "build"
    root.mkdir()
    (root / "RPMS").symlink_to(host_file.parent)
    tree = UntrustedDir(root)
    assert tree.files("RPMS") == []
    assert len(tree.refusals) == 1 and "a symbolic link" in tree.refusals[0].reason
    with pytest.raises(UnsafeFile, match="not a directory"):
        tree.read_bytes("RPMS/shadow")
    assert not tree.is_dir("RPMS")


def test_directories_fifos_and_sockets_are_refused(built: Path, tmp_path: Path) -> None:
    rpms = built / "RPMS"
    (rpms / "dir.rpm").mkdir()
    os.mkfifo(rpms / "fifo.rpm")
    tree = UntrustedDir(built)
    assert tree.files("RPMS", ".rpm") == ["RPMS/good-1.0-1.noarch.rpm"]
    reasons = {r.relpath: r.reason for r in tree.refusals}
    assert reasons["RPMS/dir.rpm"].startswith("a directory")
    assert reasons["RPMS/fifo.rpm"].startswith("a fifo")
    # Opening a fifo directly is refused before any open() that could block.
    with pytest.raises(UnsafeFile, match="a fifo"):
        tree.open("RPMS/fifo.rpm")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_device_node_is_refused_without_being_opened(built: Path) -> None:
    os.mknod(built / "RPMS" / "null.rpm", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    tree = UntrustedDir(built)
    assert tree.files("RPMS", ".rpm") == ["RPMS/good-1.0-1.noarch.rpm"]
    assert tree.refusals[0].reason.startswith("a device node")
    with pytest.raises(UnsafeFile, match="a device node"):
        tree.read_bytes("RPMS/null.rpm")


def test_a_link_swapped_in_between_the_check_and_the_open_is_refused(
        built: Path, host_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = built / "RPMS" / "good-1.0-1.noarch.rpm"
    real_stat = os.stat
    checks = []

    def stat_then_swap(path: object, *args: object, **kwargs: object) -> os.stat_result:
        """The second check of the file (the one open() makes) is followed by a swap."""
        result = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if path == victim.name:
            checks.append(path)
            if len(checks) == 2:
                victim.unlink()
                victim.symlink_to(host_file)
        return result

    monkeypatch.setattr(untrusted.os, "stat", stat_then_swap)
    tree = UntrustedDir(built)
    out = private_dir(tmp_path / "out")
    assert tree.collect("RPMS", ".rpm", out) == []
    assert "changed between the check and the open" in tree.refusals[0].reason
    assert SECRET.encode() not in _all_bytes_under(out)


def test_a_file_replaced_by_another_between_check_and_open_is_refused(
        built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = built / "RPMS" / "good-1.0-1.noarch.rpm"
    real_stat = os.stat
    swapped = []

    def stat_then_replace(path: object, *args: object, **kwargs: object) -> os.stat_result:
        result = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if path == victim.name and not swapped:
            swapped.append(True)
            other = built / "RPMS" / "other"
            other.write_bytes(b"other")
            os.replace(other, victim)
        return result

    monkeypatch.setattr(untrusted.os, "stat", stat_then_replace)
    with pytest.raises(UnsafeFile, match="changed between the check and the open"):
        UntrustedDir(built).read_bytes("RPMS/good-1.0-1.noarch.rpm")


@pytest.mark.parametrize("name", [".hidden.rpm", "new\nline.rpm", "sp ace.rpm",
                                  "tab\t.rpm", "esc\x1b[31m.rpm"])
def test_names_that_are_not_plain_are_refused(built: Path, name: str) -> None:
    (built / "RPMS" / name).write_bytes(b"x")
    tree = UntrustedDir(built)
    assert tree.files("RPMS", ".rpm") == ["RPMS/good-1.0-1.noarch.rpm"]
    assert "not a plain file name" in tree.refusals[0].reason
    assert "\n" not in str(tree.refusals[0]) and "\x1b" not in str(tree.refusals[0])


@pytest.mark.parametrize("relpath", ["../outside", "RPMS/../../outside", "/etc/passwd"])
def test_paths_leaving_the_directory_are_refused(built: Path, relpath: str) -> None:
    (built.parent / "outside").write_text(SECRET)
    with pytest.raises(UnsafeFile):
        UntrustedDir(built).read_bytes(relpath)


def test_absolute_looking_paths_stay_inside(built: Path) -> None:
    """A leading slash is dropped, not honoured: the path is taken inside the root."""
    assert UntrustedDir(built).read_bytes("/RPMS/good-1.0-1.noarch.rpm") == b"rpm bytes"


def test_read_bytes_is_bounded(built: Path) -> None:
    with pytest.raises(UnsafeFile, match="larger than 4 bytes"):
        UntrustedDir(built).read_bytes("RPMS/good-1.0-1.noarch.rpm", limit=4)


def test_copy_replaces_an_existing_file_or_link_in_the_destination(
        built: Path, host_file: Path, tmp_path: Path) -> None:
    out = private_dir(tmp_path / "out")
    (out / "good-1.0-1.noarch.rpm").symlink_to(host_file)
    UntrustedDir(built).copy_to("RPMS/good-1.0-1.noarch.rpm", out)
    assert not (out / "good-1.0-1.noarch.rpm").is_symlink()
    assert host_file.read_text() == SECRET  # the link's target was not written through
    assert (out / "good-1.0-1.noarch.rpm").read_bytes() == b"rpm bytes"


def test_a_missing_subdir_gives_nothing_and_refuses_nothing(tmp_path: Path) -> None:
    tree = UntrustedDir(tmp_path)
    assert tree.files("SRPMS", ".src.rpm") == [] and tree.refusals == []


def test_private_dir_refuses_a_link(tmp_path: Path, host_file: Path) -> None:
    (tmp_path / "results").symlink_to(host_file.parent)
    with pytest.raises(UnsafeFile):
        private_dir(tmp_path / "results")
