"""Helpers for engines reached over a unix socket (shared by the runtime plugins)."""

from __future__ import annotations

import socket
import time


def socket_path(url: str) -> str | None:
    """The filesystem path of a ``unix://`` or ``http+unix://`` URL, else None."""
    for prefix in ("unix://", "http+unix://"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return None


def socket_answers(path: str, timeout: float = 2.0) -> bool:
    """True when an HTTP API server answers ``GET /_ping`` on the unix socket ``path``."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
        return b" 200 " in sock.recv(64)
    except OSError:
        return False
    finally:
        sock.close()


def wait_for_socket(path: str, timeout: float) -> bool:
    """Poll until ``path`` answers or ``timeout`` seconds pass; True if it answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if socket_answers(path, timeout=1.0):
            return True
        time.sleep(0.1)
    return False
