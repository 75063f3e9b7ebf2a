"""Alpaca's JSON, written once: the order, clock, account, position and asset bodies exactly as
alpaca-py's models parse them. Pure formatting of typed values; no state and no rules here, so
a field the real service sends differently is fixed in one place."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from infra.paperbroker.calendar import NY
from infra.paperbroker.orders import Order, stable_id
from strategy import Side

CLOCK_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def iso(ts: pd.Timestamp | None) -> str | None:
    """RFC 3339 UTC with microseconds, as Alpaca writes timestamps."""
    return None if ts is None else ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(x: float | None) -> str | None:
    """A number as Alpaca sends it (a string); exact float round trip."""
    if x is None:
        return None
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _ny(ts: pd.Timestamp) -> str:
    """New York local time with a colon in the offset (-05:00), as GET /v2/clock sends it."""
    text = ts.tz_convert(NY).strftime(CLOCK_FORMAT)
    return text[:-2] + ":" + text[-2:]


@dataclass(frozen=True)
class ClockReading:
    """What GET /v2/clock tells: the instant, whether a session is open, the next open and the
    close of the open session (else of the next one)."""

    timestamp: pd.Timestamp
    is_open: bool
    next_open: pd.Timestamp
    next_close: pd.Timestamp


def clock_json(reading: ClockReading) -> dict:
    return {
        "timestamp": _ny(reading.timestamp),
        "is_open": reading.is_open,
        "next_open": _ny(reading.next_open),
        "next_close": _ny(reading.next_close),
    }


def order_json(order: Order) -> dict:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at or order.created_at),
        "submitted_at": iso(order.created_at),
        "filled_at": iso(order.filled_at),
        "expired_at": iso(order.expired_at),
        "canceled_at": iso(order.canceled_at),
        "failed_at": iso(order.failed_at),
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": stable_id("asset", order.symbol),
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": num(order.notional),
        "qty": num(order.qty),
        "filled_qty": num(order.filled_qty),
        "filled_avg_price": num(order.filled_avg_price),
        "order_class": "",
        "order_type": "market",
        "type": "market",
        "side": order.side.value,
        "position_intent": "buy_to_open" if order.side == Side.BUY else "sell_to_close",
        "time_in_force": "day",
        "limit_price": None,
        "stop_price": None,
        "status": order.status.value,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


@dataclass(frozen=True)
class AccountFigures:
    """The numbers an account body is made of (the rest of it is constant)."""

    account_id: str
    cash: float
    equity: float
    buying_power: float
    last_equity: float
    created_at: pd.Timestamp


def account_json(a: AccountFigures) -> dict:
    bp = num(a.buying_power)
    return {
        "id": a.account_id,
        "account_number": "PA" + a.account_id.replace("-", "")[:10].upper(),
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "buying_power": bp,
        "regt_buying_power": bp,
        "daytrading_buying_power": "0",
        "non_marginable_buying_power": bp,
        "options_buying_power": bp,
        "cash": num(a.cash),
        "accrued_fees": "0",
        "pending_transfer_out": "0",
        "pending_transfer_in": "0",
        "portfolio_value": num(a.equity),
        "equity": num(a.equity),
        "last_equity": num(a.last_equity),
        "long_market_value": num(a.equity - a.cash),
        "short_market_value": "0",
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "daytrade_count": 0,
        "multiplier": "1",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": False,
        "created_at": iso(a.created_at),
    }


@dataclass(frozen=True)
class PositionFigures:
    """One long position: shares, their cost, what is not promised to an open sell, and the
    last two closes (None: no close known yet)."""

    symbol: str
    qty: float
    cost: float
    available: float
    price: float | None
    prev: float | None


def position_json(p: PositionFigures) -> dict:
    qty, cost, price, prev = p.qty, p.cost, p.price, p.prev
    value = qty * price if price is not None else cost
    moved = bool(price and prev)
    return {
        "asset_id": stable_id("asset", p.symbol),
        "symbol": p.symbol,
        "exchange": "",
        "asset_class": "us_equity",
        "asset_marginable": False,
        "avg_entry_price": num(cost / qty),
        "qty": num(qty),
        "qty_available": num(p.available),
        "side": "long",
        "market_value": num(value),
        "cost_basis": num(cost),
        "unrealized_pl": num(value - cost),
        "unrealized_plpc": num((value - cost) / cost if cost else 0.0),
        "unrealized_intraday_pl": num(qty * (price - prev) if moved else 0.0),
        "unrealized_intraday_plpc": num(price / prev - 1 if moved else 0.0),
        "current_price": num(price),
        "lastday_price": num(prev),
        "change_today": num(price / prev - 1 if moved else 0.0),
    }


def asset_json(symbol: str) -> dict:
    return {
        "id": stable_id("asset", symbol),
        "class": "us_equity",
        "exchange": "",
        "symbol": symbol,
        "name": symbol,
        "status": "active",
        "tradable": True,
        "marginable": False,
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": True,
        "attributes": [],
    }
