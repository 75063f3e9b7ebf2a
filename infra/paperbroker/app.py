"""The HTTP face of a `PaperBroker`: its routes (`routes.build_app`) behind what sits in front
of Alpaca's handlers. This outer ASGI layer counts requests per route, checks the
APCA-API-KEY-ID / APCA-API-SECRET-KEY headers (401 when wrong or missing), applies the
per-minute rate limit (429 with X-Ratelimit-* headers) and injects the configured faults.
/_sim routes need no keys and are never rate limited or faulted.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from starlette.routing import Match

from infra.paperbroker import errors
from infra.paperbroker.routes import build_app, error_response
from infra.paperbroker.state import PaperBroker


class RateLimiter:
    """A sliding one-minute window per API key id (Alpaca limits per account per minute)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, now: float) -> tuple[bool, dict[str, str]]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - 60.0:
            hits.popleft()
        allowed = len(hits) < self.per_minute
        if allowed:
            hits.append(now)
        reset = int(time.time() + (hits[0] + 60.0 - now if hits else 60.0))
        headers = {
            "X-Ratelimit-Limit": str(self.per_minute),
            "X-Ratelimit-Remaining": str(max(self.per_minute - len(hits), 0)),
            "X-Ratelimit-Reset": str(reset),
        }
        return allowed, headers


class BrokerASGI:
    """Route counting, auth, rate limit, faults and snapshot saving around the routes."""

    def __init__(self, broker: PaperBroker) -> None:
        self.broker = broker
        self.app = build_app(broker)
        self.limiter = RateLimiter(broker.rate_limit) if broker.rate_limit else None

    def _endpoint(self, scope: dict) -> str:
        for route in self.app.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return f"{scope['method']} {route.path}"
        return f"{scope['method']} {scope['path']}"

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        await self._handle(scope, receive, send)

    async def _handle(self, scope: dict, receive: Callable, send: Callable) -> None:
        broker = self.broker
        method, path = scope["method"], scope["path"]
        broker.count_request(self._endpoint(scope))
        receive = await _buffered(receive)
        if path.startswith("/_sim/"):
            await self._run(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if (headers.get("apca-api-key-id") != broker.key_id
                or headers.get("apca-api-secret-key") != broker.secret_key):
            await error_response(errors.unauthorized())(scope, receive, send)
            return
        extra: dict[str, str] = {}
        if self.limiter is not None:
            allowed, extra = self.limiter.check(broker.key_id, time.monotonic())
            if not allowed:
                await error_response(errors.rate_limited(), extra)(scope, receive, send)
                return
        drop_after = False
        for rule in broker.http_faults(method, path):
            if rule.kind == "status":
                exc = (errors.rate_limited() if rule.status == 429 else
                       errors.BrokerError(rule.status, rule.status * 100_000,
                                          f"injected fault: HTTP {rule.status}"))
                await error_response(exc, extra or None)(scope, receive, send)
                return
            if rule.kind in ("delay", "stall"):
                await asyncio.sleep(rule.seconds)
            if rule.kind in ("stall", "drop_before"):
                _drop(send)
                return
            drop_after = drop_after or rule.kind == "drop_after"
        broker.settle()
        if drop_after:
            await self._run(scope, receive, _discard)
            _drop(send)
            return
        await self._run(scope, receive, _with_headers(send, extra))

    async def _run(self, scope: dict, receive: Callable, send: Callable) -> None:
        await self.app(scope, receive, send)


async def _buffered(receive: Callable) -> Callable:
    """Read the whole request body now, as a server does before handling it: a request that
    arrived is processed even if the client gives up while a fault delays it."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

    async def replay() -> dict:
        return pending.pop() if pending else await receive()

    return replay


async def _discard(message: dict) -> None:
    """A `send` that swallows the response (drop_after: processed, never answered)."""


def _with_headers(send: Callable, extra: dict[str, str]) -> Callable:
    if not extra:
        return send
    raw = [(k.lower().encode(), v.encode()) for k, v in extra.items()]

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *raw]}
        await send(message)

    return wrapped


def _drop(send: Callable) -> None:
    """Close the client's connection with no response bytes at all, so the client sees a
    connection error (requests: ConnectionError), not an HTTP status. Reaches the transport
    through uvicorn's bound `send` (uvicorn 0.54, h11): the only way to drop mid-request."""
    cycle = send.__self__  # type: ignore[attr-defined]
    cycle.transport.abort()
    cycle.disconnected = True
