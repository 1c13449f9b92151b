"""Live log uploads: when a log is due to go to the hub."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from koji import util

from adjutant.worker.hublog import UPLOAD_PIECE, HubLogUploader


class Session:
    """Records koji's fast uploads the way the hub would answer them."""

    def __init__(self) -> None:
        self.opts = {"use_fast_upload": True}
        self.received: list[tuple[int, int]] = []
        self.whole: list[tuple[str, bytes]] = []

    def rawUpload(self, data: bytes, offset: int, path: str, name: str,
                  overwrite: bool = False) -> dict[str, Any]:
        self.received.append((offset, len(data)))
        return {"hexdigest": util.adler32_constructor(data).hexdigest()}


    def uploadWrapper(self, localfile: str, path: str, name: str) -> None:
        self.whole.append((name, Path(localfile).read_bytes()))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_log_goes_up_once_an_interval_unless_a_full_piece_waits(tmp_path: Path) -> None:
    session, clock = Session(), Clock()
    uploader = HubLogUploader(session, tmp_path, "tasks/1", interval=1.0, clock=clock)
    uploader.add("build.log")
    log = tmp_path / "build.log"
    log.write_bytes(b"first line\n")
    uploader.upload_new()
    assert session.received == [(0, 11)]

    with log.open("ab") as fh:
        fh.write(b"a few more bytes\n")
    clock.now += 0.3
    uploader.upload_new()
    assert session.received == [(0, 11)], "a trickle waits for its interval"

    with log.open("ab") as fh:
        fh.write(b"x" * UPLOAD_PIECE)
    clock.now += 0.2
    uploader.upload_new()
    assert session.received == [(0, 11), (11, UPLOAD_PIECE), (11 + UPLOAD_PIECE, 17)], \
        "a full piece waiting goes up at once, with everything before it"

    with log.open("ab") as fh:
        fh.write(b"tail\n")
    clock.now += 0.9
    uploader.upload_new()
    assert len(session.received) == 3
    clock.now += 0.1
    uploader.upload_new()
    assert session.received[-1] == (11 + UPLOAD_PIECE + 17, 5)

    with log.open("ab") as fh:
        fh.write(b"last\n")
    uploader.stop()
    assert session.received[-1] == (11 + UPLOAD_PIECE + 22, 5), "the final pass sends all"


def test_a_log_never_sent_goes_up_whole_unless_one_piece_holds_it(tmp_path: Path) -> None:
    session = Session()
    uploader = HubLogUploader(session, tmp_path, "tasks/1", interval=1.0, clock=Clock())
    sizes = {"empty.log": 0, "short.log": 100, "piece.log": UPLOAD_PIECE,
             "sbom.json": 3 * UPLOAD_PIECE + 5}
    for name, size in sizes.items():
        uploader.add(name)
        (tmp_path / name).write_bytes(bytes(i % 251 for i in range(size)))
    uploader.stop()
    assert session.received == [(0, 100), (0, UPLOAD_PIECE)]
    assert session.whole == [("empty.log", b""),
                             ("sbom.json", (tmp_path / "sbom.json").read_bytes())]


def test_adding_a_log_does_not_wait_for_a_pass_that_is_uploading(tmp_path: Path) -> None:
    """A build step opening its log must not stall behind a slow hub."""
    session, entered, release = Session(), threading.Event(), threading.Event()
    upload = session.rawUpload

    def slow_upload(*args: Any, **kwargs: Any) -> dict[str, Any]:
        entered.set()
        release.wait(30)
        return upload(*args, **kwargs)

    session.rawUpload = slow_upload  # type: ignore[method-assign]
    uploader = HubLogUploader(session, tmp_path, "tasks/1", interval=1.0, clock=Clock())
    uploader.add("root.log")
    (tmp_path / "root.log").write_bytes(b"installing\n")
    uploading = threading.Thread(target=uploader.upload_new)
    uploading.start()
    try:
        assert entered.wait(30)
        adding = threading.Thread(target=uploader.add, args=("build.log",))
        adding.start()
        adding.join(5)
        assert not adding.is_alive(), "add() waited for the upload in progress"
    finally:
        release.set()
        uploading.join()
    (tmp_path / "build.log").write_bytes(b"building\n")
    uploader.stop()
    assert session.received == [(0, 11), (0, 9)]
