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
    """The body of a chunked response, decoded as it arrives (trailers ignored)."""
    buf = bytearray(first)
    remaining = 0        # bytes left in the current chunk
    crlf = False         # the CRLF after a chunk's data is still to be skipped
    while True:
        out = bytearray()
        pos = 0
        while True:
            if remaining:
                take = min(remaining, len(buf) - pos)
                out += buf[pos:pos + take]
                pos += take
                remaining -= take
                if remaining:
                    break
                crlf = True
            if crlf:
                if len(buf) - pos < 2:
                    break
                pos += 2
                crlf = False
            end = buf.find(b"\r\n", pos)
            if end < 0:
                break
            try:
                size = int(bytes(buf[pos:end]).split(b";", 1)[0], 16)
            except ValueError:
                raise ContainerError("malformed chunked response from the engine") from None
            pos = end + 2
            if size == 0:
                if out:
                    yield bytes(out)
                return
            remaining = size
        del buf[:pos]
        if out:
            yield bytes(out)
        data = sock.recv(_BLOCK)
        if not data:
            return
        buf += data
