"""podman's k8s-file log read back into the container's output streams."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adjutant.container.spec import Stream
from adjutant_podman.logfile import LogFileError, k8s_log_path, read_k8s_log

T = b"2026-11-30T17:00:00.123456789+00:00"


def _log(tmp_path: Path, *records: bytes) -> str:
    path = tmp_path / "ctr.log"
    path.write_bytes(b"".join(T + b" " + r + b"\n" for r in records))
    return str(path)


def test_full_and_partial_records_make_the_streams(tmp_path: Path) -> None:
    path = _log(tmp_path, b"stdout F one", b"stdout F ", b"stderr P par", b"stderr F tial",
                b"stdout P a b  c", b"stdout P \xff\xfe")
    assert list(read_k8s_log(path)) == [
        (Stream.STDOUT, b"one\n\n"), (Stream.STDERR, b"partial\n"),
        (Stream.STDOUT, b"a b  c\xff\xfe")]


def test_runs_are_joined_across_read_blocks(tmp_path: Path) -> None:
    records = [b"stdout F " + b"x" * 1000] * 3000  # 3 MB: several 1 MiB blocks
    joined = b"".join(data for _, data in read_k8s_log(_log(tmp_path, *records)))
    assert joined == (b"x" * 1000 + b"\n") * 3000


@pytest.mark.parametrize("record", [b"stdout X text", b"stdin F text", b"stdout",
                                    b"stdoutFtext"])
def test_a_record_out_of_format_is_an_error(tmp_path: Path, record: bytes) -> None:
    with pytest.raises(LogFileError, match="not a k8s-file log record"):
        list(read_k8s_log(_log(tmp_path, b"stdout F fine", record)))


def test_a_log_cut_inside_a_record_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    path.write_bytes(T + b" stdout F whole\n" + T + b" stdout F cut")
    with pytest.raises(LogFileError, match="inside a record"):
        list(read_k8s_log(str(path)))


def test_a_link_or_a_directory_is_not_read(tmp_path: Path) -> None:
    target = _log(tmp_path, b"stdout F secret")
    link = tmp_path / "link.log"
    os.symlink(target, link)
    with pytest.raises(LogFileError, match="cannot open"):
        list(read_k8s_log(str(link)))
    with pytest.raises(LogFileError, match="not a regular file"):
        list(read_k8s_log(str(tmp_path)))
    with pytest.raises(LogFileError, match="cannot open"):
        list(read_k8s_log(str(tmp_path / "missing.log")))


def test_the_path_comes_from_a_k8s_file_log_config_only() -> None:
    k8s = {"HostConfig": {"LogConfig": {"Type": "k8s-file", "Path": "/var/lib/c/ctr.log"}}}
    assert k8s_log_path(k8s) == "/var/lib/c/ctr.log"
    assert k8s_log_path({"HostConfig": {"LogConfig": {"Type": "journald"}}}) is None
    assert k8s_log_path({"HostConfig": {"LogConfig": {"Type": "k8s-file",
                                                      "Path": "relative.log"}}}) is None
    assert k8s_log_path({}) is None
