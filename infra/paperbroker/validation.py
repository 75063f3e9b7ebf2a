"""POST /v2/orders bodies -> a typed `OrderRequest`, or the Alpaca error the real service answers
(422 40010001 for a malformed order, 403 40310000 when the account cannot cover it). The first
check that fails answers, so their order is part of the API a client sees."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Container

from infra.paperbroker import errors
from infra.paperbroker.book import OrderBook
from infra.paperbroker.orders import EPS, OrderRequest
from infra.paperbroker.wire import num
from strategy import Side
from strategy.fills import affordable

MAX_CLIENT_ORDER_ID = 128


def identify(body: object) -> tuple[dict, str]:
    """The body as a JSON object, and its client_order_id (a fresh UUID when absent). Read
    before anything else is checked: the broker counts every id it was sent, valid or not."""
    if not isinstance(body, dict):
        raise errors.unprocessable("request body must be a JSON object")
    cid = body.get("client_order_id") or str(uuid.uuid4())
    if not isinstance(cid, str):
        raise errors.unprocessable("client_order_id must be a string")
    return body, cid


def parse_order(
    body: dict, cid: str, *, taken: Container[str], knows: Callable[[str], bool]
) -> OrderRequest:
    """The order `body` asks for. `taken`: client order ids already used; `knows`: whether a
    symbol is an asset of the market served."""
    if len(cid) > MAX_CLIENT_ORDER_ID:
        raise errors.unprocessable("client_order_id must be no more than 128 characters")
    if cid in taken:
        raise errors.unprocessable("client_order_id must be unique")
    symbol = str(body.get("symbol") or "").upper()
    if not symbol:
        raise errors.unprocessable("symbol is required")
    if not knows(symbol):
        raise errors.unprocessable(f'asset "{symbol}" not found')
    side = body.get("side")
    if side not in tuple(Side):
        raise errors.unprocessable(f"invalid side {side!r}; use buy or sell")
    kind = body.get("type", body.get("order_type"))
    if kind != "market":
        raise errors.unprocessable(
            f"order type {kind!r} not supported: the local broker takes market orders only"
        )
    tif = body.get("time_in_force")
    if tif != "day":
        raise errors.unprocessable(
            f"time_in_force {tif!r} not supported: the local broker takes day orders only"
        )
    if body.get("extended_hours"):
        raise errors.unprocessable("extended hours orders are not supported")
    qty = _positive(body.get("qty"), "qty")
    notional = _positive(body.get("notional"), "notional")
    if (qty is None) == (notional is None):
        raise errors.unprocessable("exactly one of qty and notional is required")
    return OrderRequest(cid, symbol, Side(side), qty, notional)


def refuse_unfunded(
    req: OrderRequest, est: float, buying_power: Callable[[], float],
    available: Callable[[str], float],
) -> None:
    """403 when the account cannot cover `req` at the estimated price `est`: a buy beyond the
    buying power, a sell of more shares than are held and not already promised to a sell."""
    if req.side == Side.BUY:
        need = req.notional if req.notional is not None else req.qty * est
        if not affordable(need, buying_power()):
            raise errors.forbidden("insufficient buying power")
        return
    wanted = req.qty if req.qty is not None else (req.notional / est if est else math.inf)
    left = available(req.symbol)
    if wanted > left + EPS:
        raise _short_of_shares(wanted, left)


def closing_sell(symbol: str, book: OrderBook) -> dict:
    """DELETE /v2/positions/{symbol} as the order body it stands for: a market sell of every
    share of `symbol` not already promised to a sell."""
    symbol = symbol.upper()
    if symbol not in book.positions:
        raise errors.not_found("position")
    qty = book.available(symbol)
    if qty <= EPS:
        raise _short_of_shares(book.positions[symbol][0], 0.0)
    return {"symbol": symbol, "qty": qty, "side": Side.SELL.value, "type": "market",
            "time_in_force": "day"}


def _short_of_shares(requested: float, available: float) -> errors.BrokerError:
    return errors.forbidden(
        f"insufficient qty available for order (requested: {num(requested)}, "
        f"available: {num(available)})"
    )


def _positive(value: object, name: str) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise errors.unprocessable(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise errors.unprocessable(f"{name} must be > 0, got {value!r}")
    return x
