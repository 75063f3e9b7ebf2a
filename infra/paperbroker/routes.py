"""The routes of a `PaperBroker`: Alpaca's trading and market data API on one base URL (both
under /v2, as alpaca-py builds them from `url_override`), plus the /_sim admin routes. Each
route parses its query or body and answers with what the broker returns; errors are Alpaca's
JSON {"code", "message"}, also for unknown routes and methods.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.paperbroker import errors, history
from infra.paperbroker.bars import JsonText
from infra.paperbroker.faults import FaultConfig
from infra.paperbroker.state import PaperBroker

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(data: object, status: int = 200) -> Response:
    if isinstance(data, JsonText):  # written as JSON already (bars pages)
        return Response(data, status_code=status, media_type="application/json")
    return JSONResponse(data, status_code=status)


def error_response(exc: errors.BrokerError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _body(request: Request) -> object:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.BODY_INVALID() from None


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


def _broker(request: Request) -> PaperBroker:
    return request.app.state.broker


def _answer(call: Callable[[PaperBroker, Request], object], status: int = 200) -> Endpoint:
    """A route that answers with what `call(broker, request)` returns, as JSON."""

    async def endpoint(request: Request) -> Response:
        return _json(call(_broker(request), request), status)

    return endpoint


async def _submit(request: Request) -> Response:
    return _json(_broker(request).submit_order(await _body(request)))


async def _orders(request: Request) -> Response:
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
    return _json(_broker(request).list_orders(
        status=status, limit=min(max(limit, 1), 500), direction=q.get("direction", "desc"),
        symbols=symbols or None, after=_time_param(request, "after"),
        until=_time_param(request, "until"), side=q.get("side"),
    ))


async def _cancel(request: Request) -> Response:
    _broker(request).cancel_order(_order_id(request))
    return Response(status_code=204)


async def _sim_set_time(request: Request) -> Response:
    body = await _body(request)
    if not isinstance(body, dict) or "time" not in body:
        raise errors.unprocessable('body must be {"time": "<ISO 8601>"}')
    try:
        when = pd.Timestamp(body["time"])
    except ValueError:
        raise errors.unprocessable(f"time must be ISO 8601, got {body['time']!r}") from None
    return _json(_broker(request).set_time(when))


async def _sim_advance(request: Request) -> Response:
    """POST /_sim/advance {"seconds": s}: the clock `s` seconds on (the local waiter's pause
    between two polls of a morning, `infra.sim_clock`)."""
    body = await _body(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if (not isinstance(seconds, int | float) or isinstance(seconds, bool)
            or not 0 <= seconds <= 86400):
        raise errors.unprocessable('body must be {"seconds": <a number from 0 to 86400>}')
    return _json(_broker(request).advance(float(seconds)))


async def _sim_account(request: Request) -> Response:
    """POST /_sim/account {"status": "ACTIVE", "trading_blocked": false, ...}: set the account's
    standing (any subset of `account.AccountFlags`' fields); answers GET /v2/account's body."""
    body = await _body(request)
    if not isinstance(body, dict):
        raise errors.unprocessable("body must be a JSON object of account fields")
    return _json(_broker(request).set_account(**body))


def _reset(broker: PaperBroker) -> dict:
    broker.reset()
    return broker.clock()


async def _sim_faults(request: Request) -> Response:
    broker = _broker(request)
    if request.method == "POST":
        body = await _body(request)
        try:
            config = FaultConfig.from_dict(body if isinstance(body, dict) else {"rules": 0})
        except (TypeError, ValueError) as exc:
            raise errors.unprocessable(f"fault config: {exc}") from None
        seed = body.get("seed") if isinstance(body, dict) else None
        broker.set_faults(config, seed)
    return _json(broker.faults())


def _path(request: Request, name: str) -> str:
    return request.path_params[name]


def _order_id(request: Request) -> str:
    """The order id of the path; not a UUID: Alpaca's 422 (alpacahq/Alpaca-API#135)."""
    text = _path(request, "order_id")
    try:
        uuid.UUID(text)
    except ValueError:
        raise errors.ORDER_ID_INVALID() from None
    return text


def _close(broker: PaperBroker, request: Request) -> dict:
    q = request.query_params
    return broker.close_position(_path(request, "symbol"), q.get("qty"), q.get("percentage"))


def _activities(broker: PaperBroker, request: Request) -> list[dict]:
    kind = request.path_params.get("activity_type")
    return broker.activities(history.activity_query(request.query_params, kind))


GET, POST, DELETE = ["GET"], ["POST"], ["DELETE"]
ROUTES = [
    Route("/v2/clock", _answer(lambda b, _: b.clock())),
    Route("/v2/calendar", _answer(lambda b, r: b.calendar_rows(_date_param(r, "start"),
                                                               _date_param(r, "end")))),
    Route("/v2/account", _answer(lambda b, _: b.account())),
    Route("/v2/account/activities", _answer(_activities)),
    Route("/v2/account/activities/{activity_type}", _answer(_activities)),
    Route("/v2/account/portfolio/history", _answer(
        lambda b, r: b.portfolio_history(history.history_query(r.query_params)))),
    Route("/v2/assets", _answer(lambda b, r: b.catalog.select(r.query_params))),
    Route("/v2/assets/{symbol}", _answer(lambda b, r: b.catalog.asset(_path(r, "symbol")))),
    Route("/v2/orders", _submit, methods=POST),
    Route("/v2/orders", _orders, methods=GET),
    Route("/v2/orders", _answer(lambda b, _: b.cancel_all(), 207), methods=DELETE),
    Route("/v2/orders:by_client_order_id", _answer(
        lambda b, r: b.get_order_by_client_id(r.query_params.get("client_order_id", "")))),
    Route("/v2/orders/{order_id}", _answer(lambda b, r: b.get_order(_order_id(r))),
          methods=GET),
    Route("/v2/orders/{order_id}", _cancel, methods=DELETE),
    Route("/v2/positions", _answer(lambda b, _: b.list_positions()), methods=GET),
    Route("/v2/positions", _answer(lambda b, _: b.close_all_positions(), 207), methods=DELETE),
    Route("/v2/positions/{symbol}", _answer(lambda b, r: b.get_position(_path(r, "symbol"))),
          methods=GET),
    Route("/v2/positions/{symbol}", _answer(_close), methods=DELETE),
    Route("/v2/stocks/bars", _answer(lambda b, r: b.get_bars(dict(r.query_params)))),
    Route("/v2/stocks/{symbol}/bars", _answer(
        lambda b, r: b.get_bars(dict(r.query_params), _path(r, "symbol")))),
    Route("/v2/stocks/auctions", _answer(lambda b, r: b.auctions(dict(r.query_params)))),
    Route("/v2/stocks/trades/latest", _answer(lambda b, r: b.latest_trades(dict(r.query_params)))),
    Route("/v2/stocks/{symbol}/trades/latest", _answer(
        lambda b, r: b.latest_trades(dict(r.query_params), _path(r, "symbol")))),
    Route("/_sim/next_open", _answer(lambda b, _: b.next_open()), methods=POST),
    Route("/_sim/close", _answer(lambda b, _: b.close()), methods=POST),
    Route("/_sim/set_time", _sim_set_time, methods=POST),
    Route("/_sim/advance", _sim_advance, methods=POST),
    Route("/_sim/reset", _answer(lambda b, _: _reset(b)), methods=POST),
    Route("/_sim/account", _sim_account, methods=POST),
    Route("/_sim/stats", _answer(lambda b, _: b.stats()), methods=GET),
    Route("/_sim/faults", _sim_faults, methods=["GET", "POST"]),
]


def build_app(broker: PaperBroker) -> Starlette:
    """The Starlette app of the routes (wrap it in `BrokerASGI` to serve it)."""
    handlers = {
        400: _not_found_json, 404: _not_found_json, 405: _not_found_json,
    }
    app = Starlette(routes=ROUTES, exception_handlers={
        errors.BrokerError: _broker_error, **handlers,
    })
    app.state.broker = broker
    return app


async def _broker_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.BrokerError)
    return error_response(exc)


async def _not_found_json(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return JSONResponse({"code": status * 100_000, "message": getattr(exc, "detail", "")},
                        status_code=status)
