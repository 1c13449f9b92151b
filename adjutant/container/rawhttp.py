"""Following a long HTTP response over a unix socket, the body in large pieces.

podman's logs endpoint sends every line of output as its own HTTP chunk. Read through
requests and urllib3, each chunk costs several microseconds of Python work: a build
printing hundreds of thousands of lines then costs seconds of CPU and falls behind the
container. :class:`UnixStream` reads the socket in big blocks and decodes the chunked
encoding in bulk, so one loop iteration delivers everything that has arrived.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from adjutant.container.errors import ContainerError

_BLOCK = 256 * 1024


class UnixStream:
    """``GET target`` on the HTTP server at unix socket ``path``; iterate for the body.

    ``connect_timeout`` bounds connecting and the response head; the body is read with
    no timeout (a build may print nothing for hours). :meth:`close` from another thread
    ends a blocked read. Raises ContainerError for a status other than 200.
    """

    def __init__(self, path: str, target: str, connect_timeout: float) -> None:
        self.path = path
        self.target = target
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None
        self._closed = False

    def close(self) -> None:
        self._closed = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def __iter__(self) -> Iterator[bytes]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock = sock
        try:
            if self._closed:
                return
            sock.settimeout(self.connect_timeout)
            sock.connect(self.path)
            sock.sendall(f"GET {self.target} HTTP/1.1\r\nHost: d\r\n"
                         "Connection: close\r\n\r\n".encode())
            head, rest = self._head(sock)
            sock.settimeout(None)
            chunked = b"transfer-encoding: chunked" in head.lower()
            body = _dechunk(sock, rest) if chunked else _raw(sock, rest)
            yield from body
        except OSError:
            if not self._closed:
                raise
        finally:
            sock.close()

    def _head(self, sock: socket.socket) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                raise ContainerError(f"{self.target}: the connection closed before a response")
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        status = status_line.split()
        if len(status) < 2 or status[1] != b"200":
            raise ContainerError(f"{self.target}: {status_line.decode(errors='replace')} "
                                 f"{rest[:300].decode(errors='replace')}")
        return head, rest


def _raw(sock: socket.socket, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while data := sock.recv(_BLOCK):
        yield data


def _dechunk(sock: socket.socket, first: bytes) -> Iterator[bytes]:
    """The body of a chunked response, decoded as it arrives (trailers ignored).

    Each received block is yielded as one piece: the data of every chunk complete in it,
    and the start of one that is not. A chunk wholly inside the block (the common case:
    podman sends one line per chunk) costs one find, one int and one slice.
    """
    buf = first
    pos = 0
    remaining = 0        # data bytes of the current chunk still to come
    crlf = 0             # bytes of the CRLF after a chunk's data still to skip
    while True:
        pieces: list[bytes] = []
        n = len(buf)
        while pos < n:
            if remaining:
                take = min(remaining, n - pos)
                pieces.append(buf[pos:pos + take])
                pos += take
                remaining -= take
                if remaining:
                    break
                crlf = 2
            if crlf:
                skip = min(crlf, n - pos)
                pos += skip
                crlf -= skip
                if crlf:
                    break
            end = buf.find(b"\r\n", pos)
            if end < 0:
                break
            size = _chunk_size(buf[pos:end])
            if size == 0:
                if pieces:
                    yield b"".join(pieces)
                return
            pos = end + 2
            stop = pos + size
            if stop + 2 <= n:
                pieces.append(buf[pos:stop])
                pos = stop + 2
            else:
                remaining = size
        if pieces:
            yield b"".join(pieces)
        data = sock.recv(_BLOCK)
        if not data:
            return
        # What is left is at most a chunk's size line or CRLF: copying it is cheap.
        buf = buf[pos:] + data if pos < n else data
        pos = 0


def _chunk_size(line: bytes) -> int:
    try:
        return int(line, 16)
    except ValueError:
        pass
    try:
        return int(line.split(b";", 1)[0], 16)  # with a chunk extension
    except ValueError:
        raise ContainerError("malformed chunked response from the engine") from None
