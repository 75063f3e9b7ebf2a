"""The HTTP face of a `PaperBroker`: Alpaca's trading and market data routes on one base URL
(both under /v2, as alpaca-py builds them from `url_override`), plus the /_sim admin routes.

An outer ASGI layer does what sits in front of Alpaca's handlers: counts requests per route,
checks the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers (401 when wrong or missing), applies
the per-minute rate limit (429 with X-Ratelimit-* headers) and injects the configured faults.
/_sim routes need no keys and are never rate limited or faulted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import date

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from infra.paperbroker import errors
from infra.paperbroker.faults import FaultConfig
from infra.paperbroker.state import PaperBroker

Handler = Callable[[Request], Awaitable[Response]]


def _json(data: object, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _error(exc: errors.BrokerError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _body(request: Request) -> object:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.unprocessable("request body is not valid JSON") from None


def _date_param(request: Request, name: str) -> date | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise errors.bad_request(f"{name} must be YYYY-MM-DD, got {text!r}") from None


def _time_param(request: Request, name: str) -> pd.Timestamp | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise errors.bad_request(f"{name} must be RFC 3339, got {text!r}") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def build_app(broker: PaperBroker) -> Starlette:
    """The Starlette app of the routes (wrap it in `BrokerASGI` to serve it)."""

    async def clock(request: Request) -> Response:
        return _json(broker.clock())

    async def calendar(request: Request) -> Response:
        return _json(broker.calendar_rows(_date_param(request, "start"),
                                          _date_param(request, "end")))

    async def account(request: Request) -> Response:
        return _json(broker.account())

    async def assets(request: Request) -> Response:
        return _json(broker.assets())

    async def asset(request: Request) -> Response:
        return _json(broker.asset(request.path_params["symbol"]))

    async def submit(request: Request) -> Response:
        return _json(broker.submit_order(await _body(request)))

    async def orders(request: Request) -> Response:
        q = request.query_params
        symbols = {s.strip().upper() for v in q.getlist("symbols") for s in v.split(",")
                   if s.strip()}
        status = q.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise errors.bad_request(f"status must be open, closed or all, got {status!r}")
        try:
            limit = int(q.get("limit", "50"))
        except ValueError:
            raise errors.bad_request(f"limit must be an integer, got {q.get('limit')!r}") from None
        return _json(broker.list_orders(
            status=status, limit=min(max(limit, 1), 500), direction=q.get("direction", "desc"),
            symbols=symbols or None, after=_time_param(request, "after"),
            until=_time_param(request, "until"), side=q.get("side"),
        ))

    async def cancel_all(request: Request) -> Response:
        return _json(broker.cancel_all(), 207)

    async def order(request: Request) -> Response:
        return _json(broker.get_order(request.path_params["order_id"]))

    async def cancel(request: Request) -> Response:
        broker.cancel_order(request.path_params["order_id"])
        return Response(status_code=204)

    async def by_client_id(request: Request) -> Response:
        cid = request.query_params.get("client_order_id", "")
        return _json(broker.get_order_by_client_id(cid))

    async def positions(request: Request) -> Response:
        return _json(broker.list_positions())

    async def close_all(request: Request) -> Response:
        return _json(broker.close_all_positions(), 207)

    async def position(request: Request) -> Response:
        return _json(broker.get_position(request.path_params["symbol"]))

    async def close_position(request: Request) -> Response:
        return _json(broker.close_position(request.path_params["symbol"]))

    async def bars(request: Request) -> Response:
        return _json(broker.get_bars(dict(request.query_params)))

    async def sim_next_open(request: Request) -> Response:
        return _json(broker.next_open())

    async def sim_close(request: Request) -> Response:
        return _json(broker.close())

    async def sim_set_time(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or "time" not in body:
            raise errors.unprocessable('body must be {"time": "<ISO 8601>"}')
        try:
            when = pd.Timestamp(body["time"])
        except ValueError:
            raise errors.unprocessable(f"time must be ISO 8601, got {body['time']!r}") from None
        return _json(broker.set_time(when))

    async def sim_reset(request: Request) -> Response:
        broker.reset()
        return _json(broker.clock())

    async def sim_stats(request: Request) -> Response:
        return _json(broker.stats())

    async def sim_faults(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            try:
                config = FaultConfig.from_dict(body if isinstance(body, dict) else {"rules": 0})
            except (TypeError, ValueError) as exc:
                raise errors.unprocessable(f"fault config: {exc}") from None
            seed = body.get("seed") if isinstance(body, dict) else None
            broker.set_faults(config, seed)
        return _json(broker.faults())

    routes = [
        Route("/v2/clock", clock),
        Route("/v2/calendar", calendar),
        Route("/v2/account", account),
        Route("/v2/assets", assets),
        Route("/v2/assets/{symbol}", asset),
        Route("/v2/orders", submit, methods=["POST"]),
        Route("/v2/orders", orders, methods=["GET"]),
        Route("/v2/orders", cancel_all, methods=["DELETE"]),
        Route("/v2/orders:by_client_order_id", by_client_id),
        Route("/v2/orders/{order_id}", order, methods=["GET"]),
        Route("/v2/orders/{order_id}", cancel, methods=["DELETE"]),
        Route("/v2/positions", positions, methods=["GET"]),
        Route("/v2/positions", close_all, methods=["DELETE"]),
        Route("/v2/positions/{symbol}", position, methods=["GET"]),
        Route("/v2/positions/{symbol}", close_position, methods=["DELETE"]),
        Route("/v2/stocks/bars", bars),
        Route("/_sim/next_open", sim_next_open, methods=["POST"]),
        Route("/_sim/close", sim_close, methods=["POST"]),
        Route("/_sim/set_time", sim_set_time, methods=["POST"]),
        Route("/_sim/reset", sim_reset, methods=["POST"]),
        Route("/_sim/stats", sim_stats, methods=["GET"]),
        Route("/_sim/faults", sim_faults, methods=["GET", "POST"]),
    ]
    handlers = {
        400: _not_found_json, 404: _not_found_json, 405: _not_found_json,
    }
    return Starlette(routes=routes, exception_handlers={
        errors.BrokerError: _broker_error, **handlers,
    })


async def _broker_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.BrokerError)
    return _error(exc)


async def _not_found_json(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return JSONResponse({"code": status * 100_000, "message": getattr(exc, "detail", "")},
                        status_code=status)


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
            await _error(errors.unauthorized())(scope, receive, send)
            return
        extra: dict[str, str] = {}
        if self.limiter is not None:
            allowed, extra = self.limiter.check(broker.key_id, time.monotonic())
            if not allowed:
                await _error(errors.rate_limited(), extra)(scope, receive, send)
                return
        drop_after = False
        for rule in broker.http_faults(method, path):
            if rule.kind == "status":
                exc = (errors.rate_limited() if rule.status == 429 else
                       errors.BrokerError(rule.status, rule.status * 100_000,
                                          f"injected fault: HTTP {rule.status}"))
                await _error(exc, extra or None)(scope, receive, send)
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
