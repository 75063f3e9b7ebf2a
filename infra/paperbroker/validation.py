"""POST /v2/orders bodies -> a typed `OrderRequest`, or the Alpaca error the real service answers
(`errors`' table: 422 for a malformed order, mostly the generic 40010001 told apart by its
message; 403 40310000 when the account cannot cover it). The first check that fails answers, so
their order is part of the API a client sees."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Container
from datetime import time

import pandas as pd

from infra.paperbroker import errors
from infra.paperbroker.account import AccountFlags
from infra.paperbroker.book import OrderBook
from infra.paperbroker.calendar import NY
from infra.paperbroker.faults import FaultInjector
from infra.paperbroker.orders import EPS, OrderRequest, TimeInForce
from infra.paperbroker.wire import money, num
from strategy import Side
from strategy.fills import affordable

MAX_CLIENT_ORDER_ID = 128
# Order types Alpaca takes that the local broker does not model (refused by name, not "invalid").
ALPACA_ORDER_TYPES = ("limit", "stop", "stop_limit", "trailing_stop")
ALPACA_TIMES_IN_FORCE = ("gtc", "cls", "ioc", "fok")  # Alpaca's, beyond `TimeInForce`
# New York times: opening-auction (opg) orders are refused from OPG_CUTOFF until OPG_REOPENS.
OPG_CUTOFF = time(9, 28)
OPG_REOPENS = time(19, 0)


def identify(body: object) -> tuple[dict, str]:
    """The body as a JSON object, and its client_order_id (a fresh UUID when absent). Read
    before anything else is checked: the broker counts every id it was sent, valid or not."""
    if not isinstance(body, dict):
        raise errors.BODY_INVALID()
    cid = body.get("client_order_id") or str(uuid.uuid4())
    if not isinstance(cid, str):
        raise errors.BODY_INVALID()
    return body, cid


def parse_order(body: dict, cid: str, *, knows: Callable[[str], bool]) -> OrderRequest:
    """The order `body` asks for (`knows`: whether a symbol is an asset of the market served).
    Whether `cid` is taken is checked last (`refuse_taken`)."""
    if len(cid) > MAX_CLIENT_ORDER_ID:
        raise errors.CLIENT_ORDER_ID_TOO_LONG()
    symbol = str(body.get("symbol") or "").upper()
    if not symbol:
        raise errors.SYMBOL_REQUIRED()
    if not knows(symbol):
        raise errors.ASSET_UNKNOWN(symbol=symbol)
    side = body.get("side")
    if side not in tuple(Side):
        raise errors.SIDE_INVALID()
    kind = body.get("type", body.get("order_type"))
    if kind != "market":
        unmodelled = kind in ALPACA_ORDER_TYPES
        raise errors.TYPE_UNSUPPORTED(kind=kind) if unmodelled else errors.TYPE_INVALID()
    tif = _time_in_force(body.get("time_in_force"))
    if body.get("extended_hours"):
        raise errors.EXTENDED_HOURS_MARKET()
    qty = _positive(body.get("qty"), "qty")
    notional = _positive(body.get("notional"), "notional")
    if qty is None and notional is None:
        raise errors.QTY_OR_NOTIONAL_REQUIRED()
    if qty is not None and notional is not None:
        raise errors.QTY_AND_NOTIONAL()
    if tif != TimeInForce.DAY and (notional is not None or not float(qty).is_integer()):
        raise errors.FRACTIONAL_NOT_DAY()
    return OrderRequest(cid, symbol, Side(side), qty, notional, tif)


def _time_in_force(value: object) -> TimeInForce:
    """The times in force modelled (`TimeInForce`); Alpaca's others (gtc, cls, ioc, fok) are
    refused by name rather than run as something they are not."""
    if value not in tuple(TimeInForce):
        unmodelled = value in ALPACA_TIMES_IN_FORCE
        raise errors.TIF_UNSUPPORTED(tif=value) if unmodelled else errors.TIF_INVALID()
    return TimeInForce(value)


def refuse_outside_window(req: OrderRequest, now: pd.Timestamp) -> None:
    """403 for a market-on-open order sent when Alpaca takes none: from 09:28 to 19:00 New
    York (docs/trading-orders.md, "Time in Force", opg; Alpaca's answer 403 40310000 with this
    message as clients report it, e.g. QuantConnect/Lean#8374). Sent after 19:00 it waits for
    the next session's opening auction, before 09:28 for that day's."""
    if req.time_in_force != TimeInForce.OPG:
        return
    local = now.tz_convert(NY).time()
    if OPG_CUTOFF <= local < OPG_REOPENS:
        raise errors.OPG_OUTSIDE_WINDOW()


def refuse_suspended(account: AccountFlags) -> None:
    """403 for every new order while the user has suspended trading, before the order itself
    is looked at (alpacahq/gobroker rest/api/controller/order/order.go, `Create`; the same body
    quoted in Lumiwealth/lumibot#373)."""
    if account.trade_suspended_by_user:
        raise errors.TRADE_SUSPENDED_BY_USER()


def refuse_taken(cid: str, taken: Container[str]) -> None:
    """422 "client_order_id must be unique", after every other refusal, as Alpaca's broker
    orders them (alpacahq/gobroker service/order/order.go, Create: verifyOrder's 403s for buying
    power and shares come before the insert whose unique index answers it): a resend of an
    order that went through and still holds the buying power or shares it needs is answered
    403, not 422."""
    if cid in taken:
        raise errors.CLIENT_ORDER_ID_TAKEN()


def refuse_faulted_resend(cid: str, book: OrderBook, faults: FaultInjector,
                          buying_power: Callable[[], float]) -> None:
    """The `resend_forbidden` fault: a resend of an order that went through (its client order
    id taken) is refused 403 for buying power whatever the buying power left, as Alpaca answers
    when the first order still holds it (`refuse_taken`), instead of 422."""
    if cid not in book.client_order_ids:
        return
    first = book.by_client_id(cid)
    if faults.resend_fault(first.symbol):
        raise errors.INSUFFICIENT_BUYING_POWER(
            {"buying_power": money(buying_power()), "cost_basis": money(first.hold)})


def refuse_unfunded(
    req: OrderRequest, hold: float, est: float, buying_power: float,
    available: Callable[[str], float], account: AccountFlags,
) -> None:
    """403 when the account cannot take `req`, in the order Alpaca's own broker checks
    (alpacahq/gobroker service/order/order.go, `verifyOrder`): a buy whose `hold` (its value at
    the current price and collar, `strategy.fills.buy_hold`) exceeds the `buying_power` left;
    an account not authorized to trade (`AccountFlags.tradable`); a sell of more shares than
    are held and not already promised to a sell (at `est` a share for a notional sell)."""
    if req.side == Side.BUY and not affordable(hold, buying_power):
        raise errors.INSUFFICIENT_BUYING_POWER(
            {"buying_power": money(buying_power), "cost_basis": money(hold)})
    if not account.tradable:
        raise errors.ACCOUNT_NOT_AUTHORIZED()
    if req.side == Side.BUY:
        return
    wanted = req.qty if req.qty is not None else (req.notional / est if est else math.inf)
    left = available(req.symbol)
    if wanted > left + EPS:
        raise _short_of_shares(req.symbol, wanted, left)


def closing_sell(symbol: str, book: OrderBook, qty: str | None = None,
                 percentage: str | None = None) -> dict:
    """DELETE /v2/positions/{symbol}?qty=|percentage= as the order body it stands for: a market
    sell of `qty` shares, or of `percentage` of the position (whole shares unless the position
    is fractional), or of every share not already promised to a sell (openapi/trading.yaml,
    DELETE /v2/positions/{symbol_or_asset_id}: the two exclusive, percentage 0-100)."""
    if qty is not None and percentage is not None:
        raise errors.CLOSE_QTY_AND_PERCENTAGE()
    if symbol not in book.positions:
        raise errors.POSITION_NOT_FOUND()
    held, left = book.positions[symbol][0], book.available(symbol)
    if qty is not None:
        wanted = round(_query_number(qty, "qty"), 9)
    elif percentage is not None:
        wanted = _share_of(held, _query_number(percentage, "percentage"))
    else:
        wanted = left if left > EPS else held
    if wanted <= 0:
        raise errors.NOT_POSITIVE(name="qty")
    if wanted > left + EPS:
        raise _short_of_shares(symbol, wanted, left)
    return {"symbol": symbol, "qty": wanted, "side": Side.SELL.value, "type": "market",
            "time_in_force": "day"}


def _share_of(held: float, percentage: float) -> float:
    """`percentage` of `held` shares: whole shares of a whole position (Alpaca "would only sell
    fractional if position is originally fractional"), else to 9 decimals."""
    if not 0 < percentage <= 100:
        raise errors.PERCENTAGE_OUT_OF_RANGE()
    part = held * percentage / 100
    return math.floor(part + EPS) if float(held).is_integer() else round(part, 9)


def _query_number(text: str, name: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise errors.NOT_A_NUMBER(name=name) from None
    if not math.isfinite(x):
        raise errors.NOT_A_NUMBER(name=name)
    return x


def _short_of_shares(symbol: str, requested: float, available: float) -> errors.BrokerError:
    return errors.INSUFFICIENT_QTY(
        {"available": num(available), "symbol": symbol},
        requested=num(requested), available=num(available),
    )


def _positive(value: object, name: str) -> float | None:
    """An order's qty or notional; not a number: the body does not decode (Alpaca's 400)."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise errors.BODY_INVALID() from None
    if not math.isfinite(x) or x <= 0:
        raise errors.NOT_POSITIVE(name=name)
    return x
