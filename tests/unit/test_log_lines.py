"""stdout and stderr merged into one task log keep each line whole."""

from __future__ import annotations

from adjutant.container.spec import Stream
from adjutant.logs.fanout import HOLD_LIMIT, TaskLog


class Memory:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass


def merged(chunks: list[tuple[Stream, bytes]]) -> bytes:
    sink = Memory()
    log = TaskLog("build.log", [("file", sink)])
    for stream, data in chunks:
        log.write_output(stream, data)
    log.close()
    return bytes(sink.data)


OUT, ERR = Stream.STDOUT, Stream.STDERR


def test_a_chunk_of_the_other_stream_waits_for_the_line_to_end() -> None:
    assert merged([(OUT, b"line 1\nline 2 sta"), (ERR, b"+ exit 0\n"), (ERR, b"+ more"),
                   (OUT, b"rt\nline 3\n")]) == \
        b"line 1\nline 2 start\n+ exit 0\n+ moreline 3\n"


def test_nothing_is_lost_or_reordered_within_a_stream() -> None:
    chunks = [(OUT, b"a"), (ERR, b"1\n"), (OUT, b"b"), (ERR, b"2"), (OUT, b"c\nd"),
              (ERR, b"\n3\n"), (OUT, b"\n")]
    out = merged(chunks)
    assert out == b"abc\n1\n2\nd\n3\n"
    assert sorted(out) == sorted(b"".join(d for _s, d in chunks))


def test_a_line_that_never_ends_holds_the_other_stream_only_so_long() -> None:
    big = b"x" * (HOLD_LIMIT + 10)
    out = merged([(OUT, b"progress 10%"), (ERR, big), (OUT, b" 20%\n")])
    assert out == b"progress 10%" + big + b" 20%\n"


def test_held_output_is_written_when_the_log_closes() -> None:
    assert merged([(OUT, b"no newline at the end"), (ERR, b"warning\n")]) == \
        b"no newline at the endwarning\n"


def test_held_output_comes_before_a_line_of_adjutants_own() -> None:
    sink = Memory()
    log = TaskLog("root.log", [("file", sink)])
    log.write_output(OUT, b"last words")
    log.write_output(ERR, b"error\n")
    log.line("buildroot: done")
    log.close()
    assert bytes(sink.data) == b"last wordserror\nbuildroot: done\n"
