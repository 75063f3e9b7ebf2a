"""The one way the fault stand-ins (bars proxy, Secrets Manager stub, DynamoDB throttling proxy)
serve HTTP: on 127.0.0.1 at a free port, in a daemon thread, quiet, until `stop()` (or the end
of a `with` block). Each stand-in
only writes its request handler; starting, addressing, answering and stopping live here."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps test output clean and answers with one call."""

    def log_message(self, *args: object) -> None:
        return

    def answer(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class LocalServer:
    """Serves `handler` on 127.0.0.1 (port 0: a free one) from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
