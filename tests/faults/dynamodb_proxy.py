"""A throttling HTTP proxy in front of DynamoDB Local: DynamoDB Local never throttles, the real
service does (ProvisionedThroughputExceededException, ThrottlingException). Requests are
forwarded unchanged; an operation named in `throttle` (e.g. "UpdateItem") lets its first `skip`
calls through, then answers the next `count` (None = all) with the throttling error, exactly as
DynamoDB's JSON protocol does (HTTP 400, `__type`)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.faults.local_http import LocalServer, QuietHandler

THROTTLED = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"


@dataclass
class Throttle:
    skip: int = 0
    count: int | None = None


@dataclass
class DynamoDBProxy(LocalServer):
    upstream: str
    throttle: dict[str, Throttle] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def _decide(self, operation: str) -> bool:
        with self._lock:
            self.seen[operation] += 1
            rule = self.throttle.get(operation)
            if rule is None or self.seen[operation] <= rule.skip:
                return False
            if rule.count is not None and self.throttled[operation] >= rule.count:
                return False
            self.throttled[operation] += 1
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                if proxy._decide(operation):
                    self._answer(400, json.dumps({"__type": THROTTLED,
                                                  "message": "throttled (test proxy)"}).encode())
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                request = urllib.request.Request(proxy.upstream, data=body, headers=headers,
                                                 method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        self._answer(response.status, response.read())
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read())

            def _answer(self, status: int, payload: bytes) -> None:
                self.answer(status, payload, "application/x-amz-json-1.0")

        return Handler
