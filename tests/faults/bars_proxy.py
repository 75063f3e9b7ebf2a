"""A dirty market-data feed: an HTTP server the handler's ALPACA_DATA_URL points at, which asks
the paper broker for the bars (same query, same keys) and corrupts the answer with `mutate`
before passing it on: NaN, null, zero or negative closes, missing, duplicated or reordered
bars, an empty answer. The paper broker itself never serves such bars (neither does Alpaca,
mostly), so this is how the handler's data cleaning is tested through the real client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from tests.faults.local_http import LocalServer, QuietHandler

Bars = dict[str, list[dict]]


class BarsProxy(LocalServer):
    def __init__(self, upstream: str, mutate: Callable[[Bars], Bars]) -> None:
        self.upstream = upstream
        self.mutate = mutate
        self.pages = 0
        super().__init__(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(QuietHandler):
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
                self.answer(status, payload, "application/json")

        return Handler
