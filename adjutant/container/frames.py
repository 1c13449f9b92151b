"""Parsing the engines' multiplexed output format (shared by the podman and docker plugins).

Both the Docker API and podman's libpod API deliver a non-TTY container's output as frames:
one byte stream id (1 stdout, 2 stderr), three zero bytes, a 4-byte big-endian payload
length, then the payload. Chunks from the HTTP body split frames anywhere.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

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
    buf = bytearray()
    for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        pos = 0
        run_stream: int | None = None
        run = bytearray()
        while len(buf) - pos >= _HEADER.size:
            stream_id, size = _HEADER.unpack_from(buf, pos)
            if stream_id not in (0, 1, 2):
                raise ContainerError(f"unexpected output frame header (stream id {stream_id})")
            end = pos + _HEADER.size + size
            if len(buf) < end:
                break
            if size:
                sid = 2 if stream_id == 2 else 1
                if run_stream is not None and sid != run_stream:
                    yield Stream(run_stream), bytes(run)
                    run.clear()
                run_stream = sid
                run += buf[pos + _HEADER.size:end]
            pos = end
        if run_stream is not None and run:
            yield Stream(run_stream), bytes(run)
        del buf[:pos]
    if buf:
        raise ContainerError(f"output ended inside a frame ({len(buf)} bytes left over)")
