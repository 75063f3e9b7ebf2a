"""The HTTP face of a `PaperBroker`: its routes (`routes.build_app`) behind what sits in front
of Alpaca's handlers. This outer ASGI layer counts requests per route, checks the
APCA-API-KEY-ID / APCA-API-SECRET-KEY headers (wrong or missing: the trading API's 401
{"code": 40110000, ...}, the data API's 403 {"message": "forbidden."}), applies the per-minute
rate limit of `ratelimit` (429 with X-Ratelimit-* headers) and injects the configured faults.
/_sim routes need no keys and are never rate limited or faulted.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from starlette.routing import Match

from infra.paperbroker import errors
from infra.paperbroker.faults import FaultRule
from infra.paperbroker.ratelimit import Api, RateLimiter, api_of
from infra.paperbroker.routes import build_app, error_response
from infra.paperbroker.state import PaperBroker


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
        api = api_of(path)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if (headers.get("apca-api-key-id") != broker.key_id
                or headers.get("apca-api-secret-key") != broker.secret_key):
            refusal = errors.unauthorized() if api is Api.TRADING else errors.data_forbidden()
            await error_response(refusal)(scope, receive, send)
            return
        extra: dict[str, str] = {}
        if self.limiter is not None:
            verdict = self.limiter.check(broker.key_id, api, broker.now, time.monotonic(),
                                         time.time())
            extra = verdict.headers
            if not verdict.allowed:
                await error_response(_rate_limited(api), extra)(scope, receive, send)
                return
        drop_after = False
        query = scope.get("query_string", b"").decode("latin-1")
        for rule in broker.http_faults(method, path, query):
            if rule.kind == "status":
                if rule.status == 429:
                    await error_response(_rate_limited(api), {**extra, **_storm(rule)})(
                        scope, receive, send)
                    return
                await error_response(_injected(api, rule), extra or None)(scope, receive, send)
                return
            if rule.kind in ("delay", "stall"):
                await asyncio.sleep(rule.seconds)
            if rule.kind in ("stall", "drop_before"):
                _drop(send)
                return
            drop_after = drop_after or rule.kind == "drop_after"
        if (method, path) != ("POST", "/v2/orders"):
            # Not on a submission: a burst of orders is checked against the buying power before
            # any of them fills (STRATEGY.md, "Buying power"), however long the client takes.
            broker.settle()
        if drop_after:
            await self._run(scope, receive, _discard)
            _drop(send)
            return
        await self._run(scope, receive, _with_headers(send, extra))

    async def _run(self, scope: dict, receive: Callable, send: Callable) -> None:
        await self.app(scope, receive, send)


def _rate_limited(api: Api) -> errors.BrokerError:
    return errors.rate_limited() if api is Api.TRADING else errors.data_rate_limited()


def _storm(rule: FaultRule) -> dict[str, str]:
    """The rate limit headers of an injected 429: none left, the counter resetting `seconds`
    from now (epoch seconds, rounded up as the limiter's), whatever the real window says."""
    return {"X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": str(math.ceil(time.time() + rule.seconds))}


def _injected(api: Api, rule: FaultRule) -> errors.BrokerError:
    """A `status` fault's answer in the body shape of the API it hits (the data API's has no
    code: `errors.DataApiError`)."""
    message = rule.message or f"injected fault: HTTP {rule.status}"
    if api is Api.TRADING:
        return errors.BrokerError(rule.status, rule.status * 100_000, message)
    return errors.DataApiError(rule.status, message)


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
