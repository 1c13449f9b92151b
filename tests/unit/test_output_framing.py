"""The engines' output as it comes off the socket: HTTP chunked encoding around
multiplexed frames, split anywhere by the network, decoded exactly."""

from __future__ import annotations

import random
import struct
from typing import Any, cast

import pytest

from adjutant.container.errors import ContainerError
from adjutant.container.frames import iter_frames
from adjutant.container.rawhttp import _dechunk
from adjutant.container.spec import Stream


class Blocks:
    """A socket whose ``recv`` hands out ``data`` in the given block sizes."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.pos, self.sizes, self.calls = data, 0, sizes, 0

    def recv(self, limit: int) -> bytes:
        size = min(self.sizes[self.calls % len(self.sizes)], limit)
        self.calls += 1
        piece = self.data[self.pos:self.pos + size]
        self.pos += len(piece)
        return piece


def frames(rng: random.Random, count: int) -> list[tuple[int, bytes]]:
    out = []
    for _ in range(count):
        size = rng.choice([0, 1, 7, 8, 9, 50, 300, 70_000])
        out.append((rng.choice([1, 2, 0]), bytes(rng.randrange(256) for _ in range(size))
                    if size < 1000 else rng.randbytes(size)))
    return out


def chunked(body: bytes, rng: random.Random) -> bytes:
    parts, pos = [], 0
    while pos < len(body):
        size = rng.choice([1, 3, 8, 16, 100, 4096, 100_000])
        piece = body[pos:pos + size]
        ext = b";name=value" if rng.random() < 0.1 else b""
        parts.append(b"%x%s\r\n%s\r\n" % (len(piece), ext, piece))
        pos += len(piece)
    return b"".join(parts) + b"0\r\n\r\n"


def merged(pairs: list[tuple[Stream, bytes]]) -> list[tuple[Stream, bytes]]:
    out: list[tuple[Stream, bytes]] = []
    for stream, data in pairs:
        if not data:
            continue
        if out and out[-1][0] == stream:
            out[-1] = (stream, out[-1][1] + data)
        else:
            out.append((stream, data))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_frames_in_chunks_split_anywhere_come_out_exactly(seed: int) -> None:
    rng = random.Random(seed)
    sent = frames(rng, 300)
    body = b"".join(struct.pack(">BxxxL", sid, len(p)) + p for sid, p in sent)
    wire = chunked(body, rng)
    sizes = [rng.choice([1, 2, 5, 64, 1000, 65536, 262144]) for _ in range(40)]
    first_len = rng.choice([0, 1, 10])
    sock = cast(Any, Blocks(wire[first_len:], sizes))
    got = list(iter_frames(_dechunk(sock, wire[:first_len])))
    expected = merged([(Stream.STDERR if sid == 2 else Stream.STDOUT, p) for sid, p in sent])
    assert merged(got) == expected


def test_the_chunked_body_is_the_bytes_sent() -> None:
    rng = random.Random(99)
    body = rng.randbytes(300_000)
    sock = cast(Any, Blocks(chunked(body, rng), [1, 17, 4096, 70_000]))
    assert b"".join(_dechunk(sock, b"")) == body


def test_a_malformed_chunk_size_is_an_error() -> None:
    sock = cast(Any, Blocks(b"zz\r\nabc\r\n0\r\n\r\n", [100]))
    with pytest.raises(ContainerError, match="malformed chunked"):
        list(_dechunk(sock, b""))


def test_output_that_ends_inside_a_frame_is_an_error() -> None:
    whole = struct.pack(">BxxxL", 1, 10) + b"0123456789"
    with pytest.raises(ContainerError, match="ended inside a frame"):
        list(iter_frames([whole, whole[:12]]))
    with pytest.raises(ContainerError, match="ended inside a frame"):
        list(iter_frames([whole[:3]]))


def test_a_tty_stream_is_refused_not_delivered() -> None:
    with pytest.raises(ContainerError, match="stream id"):
        list(iter_frames([b"hello world, this is a tty\r\n"]))


def test_every_single_split_of_a_small_response_decodes_the_same() -> None:
    rng = random.Random(7)
    sent = frames(rng, 12)
    body = b"".join(struct.pack(">BxxxL", sid, len(p)) + p for sid, p in sent
                    if len(p) < 1000)
    wire = chunked(body, rng)
    for split in range(len(wire) + 1):
        sock = cast(Any, Blocks(wire[split:], [len(wire) + 1]))
        assert b"".join(_dechunk(sock, wire[:split])) == body, f"split at byte {split}"
        assert b"".join(d for _, d in iter_frames([body[:split], body[split:]])) == \
            b"".join(p for _, p in iter_frames([body]))
