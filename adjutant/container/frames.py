"""Parsing the engines' multiplexed output format (shared by the podman and docker plugins).

Both the Docker API and podman's libpod API deliver a non-TTY container's output as frames:
one byte stream id (1 stdout, 2 stderr), three zero bytes, a 4-byte big-endian payload
length, then the payload. Chunks from the HTTP body split frames anywhere.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping

from adjutant.container.errors import ContainerError
from adjutant.container.spec import Stream

_HEADER = struct.Struct(">BxxxL")


def iter_frames(chunks: Iterable[bytes]) -> Iterator[tuple[Stream, bytes]]:
    """Yield ``(stream, payload)`` for the frames in ``chunks``, in order. Consecutive
    frames of one stream that arrived together are delivered as one payload (an engine
    may send each line as a frame of its own; one sink call per line would cost more
    than the build).

    Raises ContainerError when the data does not follow the frame format (for instance a
    container created with a TTY), rather than delivering garbage as output.
    """
    buf = b""
    waiting: list[bytes] = []   # chunks held until the frame they continue is whole
    held = 0                    # their length, with buf's
    need = _HEADER.size         # bytes buf must hold before its first frame can be read
    for chunk in chunks:
        if not chunk:
            continue
        if held + len(chunk) < need:
            waiting.append(chunk)
            held += len(chunk)
            continue
        buf = b"".join([buf, *waiting, chunk]) if buf or waiting else chunk
        waiting.clear()
        pos = 0
        n = len(buf)
        run_stream = 0
        run: list[bytes] = []
        need = _HEADER.size
        while n - pos >= _HEADER.size:
            stream_id, size = _HEADER.unpack_from(buf, pos)
            if stream_id > 2:
                raise ContainerError(f"unexpected output frame header (stream id {stream_id})")
            start = pos + _HEADER.size
            end = start + size
            if end > n:
                need = _HEADER.size + size
                break
            if size:
                sid = 2 if stream_id == 2 else 1
                if sid != run_stream:
                    if run:
                        yield Stream(run_stream), b"".join(run)
                        run = []
                    run_stream = sid
                run.append(buf[start:end])
            pos = end
        if run:
            yield Stream(run_stream), b"".join(run)
        buf = buf[pos:] if pos < n else b""
        held = len(buf)
    if buf or waiting:
        raise ContainerError(f"output ended inside a frame ({held} bytes left over)")


def after_delivered(output: Iterable[tuple[Stream, bytes]],
                    delivered: Mapping[Stream, int]) -> Iterator[tuple[Stream, bytes]]:
    """``output`` (a container's whole output, read again from the start) without the
    first ``delivered[stream]`` bytes of each stream, which a reader already passed on."""
    seen = {Stream.STDOUT: 0, Stream.STDERR: 0}
    for stream, data in output:
        skip = delivered.get(stream, 0) - seen[stream]
        seen[stream] += len(data)
        if skip < len(data):
            yield stream, data[max(skip, 0):]
