"""A dirty market-data feed: an HTTP server the handler's ALPACA_DATA_URL points at, which asks
the paper broker for the bars (same query, same keys) and corrupts the answer with `mutate`
before passing it on: NaN, null, zero or negative closes, missing, duplicated or reordered
bars, an empty answer. The paper broker itself never serves such bars (neither does Alpaca,
mostly), so this is how the handler's data cleaning is tested through the real client."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Bars = dict[str, list[dict]]


class BarsProxy:
    def __init__(self, upstream: str, mutate: Callable[[Bars], Bars]) -> None:
        self.upstream = upstream
        self.mutate = mutate
        self.pages = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                keys = {k: v for k, v in self.headers.items() if k.lower().startswith("apca-")}
                request = urllib.request.Request(proxy.upstream + self.path, headers=keys)
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        status, data = response.status, json.load(response)
                except urllib.error.HTTPError as exc:
                    status, data = exc.code, json.load(exc)
                if status == 200 and self.path.startswith("/v2/stocks/bars"):
                    proxy.pages += 1
                    data = {**data, "bars": proxy.mutate(data.get("bars") or {})}
                payload = json.dumps(data).encode()  # NaN stays NaN, as a sloppy feed sends it
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
