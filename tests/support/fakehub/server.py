"""HTTP transport: the hub URL (XML-RPC and raw uploads) and read-only file serving.

``POST /kojihub`` (and ``/kojihub/ssllogin``) with ``Content-Type: application/octet-stream``
is a raw upload, anything else an XML-RPC ``methodCall``. Other verbs on the hub URL → 405
(``Allow: POST``); an empty or unparsable body → 400; a body that times out → 408; all else
200 with a ``methodResponse`` and a ``Koji-Version`` header. ``GET``/``HEAD`` under
``/kojifiles/`` serve files from topdir (symlinks followed, never out of topdir).
"""

import html
import mimetypes
import os
import shutil
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from koji.xmlrpcplus import loads

from .config import HUB_VERSION
from .dispatch import Dispatcher
from .sessions import Credentials

HUB_PATH = "/kojihub"
FILES_PATH = "/kojifiles"
#: Request header the ``sslLogin`` test hook reads the certificate CN from.
CN_HEADER = "Koji-Fake-Client-CN"


class HubHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server carrying the dispatcher and topdir for its handlers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, topdir: Path) -> None:
        super().__init__(address, HubRequestHandler)
        self.dispatcher = dispatcher
        self.topdir = topdir

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its reply (a worker stopped mid-call) is no error
        of the hub's; anything else is printed as the base class does."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class HubRequestHandler(BaseHTTPRequestHandler):
    """Routes requests to the dispatcher or the file tree."""

    server: HubHTTPServer
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes: without this, Nagle + delayed ACK add
    #: 40 ms to every keep-alive call.
    disable_nagle_algorithm = True
    #: Seconds a request body may take to arrive before the reply is 408.
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log lines on stderr."""

    # -- helpers -----------------------------------------------------------------------

    def _reply(self, status: int, body: bytes, ctype: str,
               extra: list[tuple[str, str]] | None = None, head_only: bool = False) -> None:
        self.send_response(status)
        self.send_header("Koji-Version", HUB_VERSION)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra or []:
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _error(self, status: int, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        self._reply(status, text.encode(), "text/plain", extra)

    def _not_allowed(self) -> None:
        self._error(
            405,
            "Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.\n",
            [("Allow", "POST")],
        )

    def _route(self) -> tuple[str, str]:
        """``('hub'|'files'|'other', path)`` for the request path."""
        path = urlsplit(self.path).path
        if path.rstrip("/") in (HUB_PATH, HUB_PATH + "/ssllogin"):
            return "hub", path
        if path == FILES_PATH or path.startswith(FILES_PATH + "/"):
            return "files", path[len(FILES_PATH):]
        return "other", path

    def _credentials(self, query: dict[str, list[str]]) -> Credentials:
        headers = self.headers
        cn = headers.get(CN_HEADER)
        if headers.get("Koji-Session-Id") is not None:
            callnum = headers.get("Koji-Session-Callnum", headers.get("Koji-Callnum"))
            return Credentials(headers.get("Koji-Session-Id"),
                               headers.get("Koji-Session-Key"), callnum, cn)
        if "session-id" in query:
            return Credentials(query["session-id"][0], query.get("session-key", [None])[0],
                               query.get("callnum", [None])[0], cn)
        return Credentials(client_cn=cn)

    def _read_body(self) -> bytes | None:
        """The request body, or None after replying 408 when it timed out."""
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return self.rfile.read(length) if length else b""
        except TimeoutError:
            self.close_connection = True
            self._error(408, "Request Timeout\n")
            return None

    # -- verbs -------------------------------------------------------------------------

    def do_POST(self) -> None:
        kind, _path = self._route()
        if kind == "files":
            self._not_allowed()
            return
        if kind != "hub":
            self._error(404, "Not Found\n")
            return
        body = self._read_body()
        if body is None:
            return
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        creds = self._credentials(query)
        dispatcher = self.server.dispatcher
        if self.headers.get("Content-Type") == "application/octet-stream":
            response = dispatcher.upload(query, body, creds)
        else:
            if not body:
                self._error(400, "Empty request\n")
                return
            try:
                params, method = loads(body)
            except Exception as exc:
                self._error(400, f"Invalid request: {exc}\n")
                return
            response = dispatcher.call(method, params, creds)
        self._reply(200, response.encode("utf-8"), "text/xml")

    def _get(self, head_only: bool) -> None:
        kind, rel = self._route()
        if kind == "hub":
            self._not_allowed()
            return
        if kind != "files":
            self._error(404, "Not Found\n")
            return
        top = self.server.topdir.resolve()
        target = (top / unquote(rel).lstrip("/")).resolve()
        if target != top and top not in target.parents:
            self._error(403, "Forbidden\n")
            return
        if target.is_dir():
            names = sorted(os.listdir(target))
            items = "".join(
                f'<a href="{html.escape(n)}{"/" if (target / n).is_dir() else ""}">'
                f"{html.escape(n)}</a><br>\n" for n in names
            )
            self._reply(200, f"<html><body>\n{items}</body></html>\n".encode(), "text/html",
                        head_only=head_only)
            return
        if not target.is_file():
            self._error(404, "Not Found\n")
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(target.stat().st_size))
        self.end_headers()
        if not head_only:
            with target.open("rb") as fo:
                shutil.copyfileobj(fo, self.wfile)

    def do_GET(self) -> None:
        self._get(head_only=False)

    def do_HEAD(self) -> None:
        self._get(head_only=True)

    def _other_verb(self) -> None:
        kind, _path = self._route()
        if kind in ("hub", "files"):
            self._not_allowed()
        else:
            self._error(404, "Not Found\n")

    do_PUT = _other_verb
    do_DELETE = _other_verb
    do_PATCH = _other_verb
    do_OPTIONS = _other_verb
