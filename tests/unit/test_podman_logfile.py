"""podman's k8s-file log read back, and followed, into the container's output streams."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjutant.container.runtime import OutputStream
from adjutant.container.spec import Stream
from adjutant_podman.logfile import (
    K8sLogFollow,
    LogFileError,
    Records,
    k8s_log_path,
    read_k8s_log,
)

T = b"2026-11-30T17:00:00.123456789+00:00"


def _log(tmp_path: Path, *records: bytes) -> str:
    path = tmp_path / "ctr.log"
    path.write_bytes(b"".join(T + b" " + r + b"\n" for r in records))
    return str(path)


def _reading(follow: K8sLogFollow) -> tuple[threading.Thread, list[tuple[Stream, bytes]]]:
    """A started thread iterating ``follow``, and the list it fills."""
    got: list[tuple[Stream, bytes]] = []
    reader = threading.Thread(target=lambda: got.extend(follow))
    reader.start()
    return reader, got


def _first_delivered(got: list[tuple[Stream, bytes]]) -> None:
    """Wait (up to 2 s) until the reader has delivered something."""
    for _ in range(200):
        if got:
            return
        threading.Event().wait(0.01)


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
    sized = {"HostConfig": {"LogConfig": {"Type": "k8s-file", "Path": "/c/ctr.log",
                                          "Size": "10MB"}}}
    assert k8s_log_path(sized) is None, "conmon truncates a log with a size limit"
    unlimited = {"HostConfig": {"LogConfig": {"Type": "k8s-file", "Path": "/c/ctr.log",
                                              "Size": "0B"}}}
    assert k8s_log_path(unlimited) == "/c/ctr.log"


def _joined(runs: list[tuple[Stream, bytes]]) -> dict[Stream, bytes]:
    got = {Stream.STDOUT: b"", Stream.STDERR: b""}
    for stream, data in runs:
        got[stream] += data
    return got


def _sample_log(rng: random.Random, count: int) -> tuple[bytes, dict[Stream, bytes]]:
    """A log of ``count`` random records and the streams it stands for."""
    log, want = b"", {Stream.STDOUT: b"", Stream.STDERR: b""}
    for _ in range(count):
        stream = rng.choice([Stream.STDOUT, Stream.STDERR])
        full = rng.random() < 0.7
        text = bytes(rng.choice(b"ab \xff\t") for _ in range(rng.randrange(0, 40)))
        name = b"stdout" if stream is Stream.STDOUT else b"stderr"
        log += T + b" " + name + (b" F " if full else b" P ") + text + b"\n"
        want[stream] += text + (b"\n" if full else b"")
    return log, want


@pytest.mark.parametrize("seed", range(8))
def test_records_fed_in_blocks_split_anywhere_make_the_same_streams(seed: int) -> None:
    rng = random.Random(seed)
    log, want = _sample_log(rng, 200)
    records, runs, pos = Records(), [], 0
    while pos < len(log):
        step = rng.choice([1, 2, 7, 40, 300, 5000])
        runs += records.feed(log[pos:pos + step])
        pos += step
    assert records.pending == b""
    assert _joined(runs) == want


def test_a_half_written_record_is_never_delivered(tmp_path: Path) -> None:
    """The follower takes a record only once its newline is in the file: a record conmon
    is still writing is neither cut into a line of its own nor lost (podman's own
    follower can do both)."""
    path = tmp_path / "ctr.log"
    path.write_bytes(T + b" stdout F whole line\n" + T + b" stdout F half wr")
    exited = threading.Event()
    follow = K8sLogFollow(str(path), exited.is_set, _no_api, poll=0.01, check=0.02)
    reader, got = _reading(follow)
    try:
        _first_delivered(got)
        threading.Event().wait(0.1)
        assert got == [(Stream.STDOUT, b"whole line\n")]
        with path.open("ab") as fh:
            fh.write(b"itten\n" + T + b" stderr F done\n")
        exited.set()
        reader.join(5)
        assert not reader.is_alive(), "the follower ends once the container has exited"
    finally:
        follow.close()
        reader.join(5)
    assert _joined(got) == {Stream.STDOUT: b"whole line\nhalf written\n",
                            Stream.STDERR: b"done\n"}


def test_the_follower_waits_for_conmon_to_create_the_log(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    follow = K8sLogFollow(str(path), lambda: True, _no_api, poll=0.01, check=0.01)
    reader, got = _reading(follow)
    threading.Event().wait(0.05)
    path.write_bytes(T + b" stdout F late\n")
    reader.join(5)
    assert got == [(Stream.STDOUT, b"late\n")]


def test_closing_the_follower_stops_it_whatever_it_waits_for(tmp_path: Path) -> None:
    for path in (tmp_path / "never-created.log", tmp_path / "idle.log"):
        if path.name == "idle.log":
            path.write_bytes(T + b" stdout F x\n")
        follow = K8sLogFollow(str(path), lambda: False, _no_api, poll=0.01, check=0.01)
        reader = threading.Thread(target=lambda f=follow: list(f))
        reader.start()
        threading.Event().wait(0.05)
        follow.close()
        reader.join(5)
        assert not reader.is_alive()


class _Api(OutputStream):
    """podman's API follower as the fallback sees it: the whole output, from the start."""

    def __init__(self, chunks: list[tuple[Stream, bytes]]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        return iter(self.chunks)

    def close(self) -> None:
        pass


def _no_api() -> OutputStream:
    raise AssertionError("the API was followed although the log file was usable")


def test_a_link_is_not_followed_and_the_api_gives_the_output(tmp_path: Path) -> None:
    target = tmp_path / "host-secret"
    target.write_bytes(T + b" stdout F secret\n")
    link = tmp_path / "ctr.log"
    os.symlink(target, link)
    api = [(Stream.STDOUT, b"from the api\n")]
    got = list(K8sLogFollow(str(link), lambda: True, lambda: _Api(api), poll=0.01))
    assert got == api


def test_a_record_out_of_format_hands_over_to_the_api_without_doubling(
        tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    path.write_bytes(T + b" stdout F one\n" + T + b" stderr F two\n")
    whole = [(Stream.STDOUT, b"one\n"), (Stream.STDERR, b"two\n"),
             (Stream.STDOUT, b"three\n")]
    follow = K8sLogFollow(str(path), lambda: False, lambda: _Api(whole), poll=0.01,
                          check=0.01)
    reader, got = _reading(follow)
    threading.Event().wait(0.1)
    with path.open("ab") as fh:
        fh.write(b"not a record\n")
    reader.join(5)
    assert _joined(got) == {Stream.STDOUT: b"one\nthree\n", Stream.STDERR: b"two\n"}


def test_finish_ends_the_follower_at_once_at_the_end_of_the_file(tmp_path: Path) -> None:
    """Told of the exit (the runner's wait returned), the follower reads to the end of
    the file and stops at once: without asking podman, and without sitting out its pause
    at the end of the file (every container run waits for it to end)."""
    path = Path(_log(tmp_path, b"stdout F first"))
    follow = K8sLogFollow(str(path), lambda: False, _no_api, poll=60, check=3600)
    reader, got = _reading(follow)
    try:
        _first_delivered(got)
        with path.open("ab") as fh:
            fh.write(T + b" stderr P last, no newline\n")
        assert follow.finish()
        reader.join(5)
        assert not reader.is_alive(), "the follower ends once told of the exit"
    finally:
        follow.close()
        reader.join(65)
    assert _joined(got) == {Stream.STDOUT: b"first\n", Stream.STDERR: b"last, no newline"}


def test_a_record_torn_at_the_exit_hands_over_to_the_api_without_loss(
        tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    path.write_bytes(T + b" stdout F whole\n" + T + b" stdout F to")
    whole = [(Stream.STDOUT, b"whole\ntorn\n")]
    follow = K8sLogFollow(str(path), lambda: False, lambda: _Api(whole), poll=0.01,
                          check=3600)
    assert follow.finish()
    assert _joined(follow) == {Stream.STDOUT: b"whole\ntorn\n", Stream.STDERR: b""}
    assert not follow.finish(), "the API's follower cannot be hurried"
