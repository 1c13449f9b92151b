"""For runtimes whose SDK talks HTTP through requests (podman-py and docker-py alike).

Imported by those plugins only: the core itself stays free of any engine's transport.
"""

from __future__ import annotations

import requests
import urllib3.exceptions

#: What such an SDK raises, or wraps, when a call runs out of time: requests' own
#: timeouts, urllib3's (inside a ConnectionError), and a socket's when connecting.
TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (
    requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)

#: What such an SDK raises, or wraps, when the engine cannot be reached at all (its
#: socket is gone, refuses, or the connection drops mid-answer).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError, urllib3.exceptions.ProtocolError, ConnectionError,
    FileNotFoundError)
