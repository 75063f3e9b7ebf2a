"""Alpaca's JSON, written once: the order, clock, account, position and asset bodies exactly as
alpaca-py's models parse them. Pure formatting of typed values; no state and no rules here, so
a field the real service sends differently is fixed in one place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

import pandas as pd

from infra.paperbroker.account import AccountFlags
from infra.paperbroker.calendar import NY
from infra.paperbroker.margin import Margin
from infra.paperbroker.orders import Order, stable_id
from strategy import Side

CLOCK_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def iso(ts: pd.Timestamp | None) -> str | None:
    """RFC 3339 UTC with microseconds, as Alpaca writes timestamps."""
    return None if ts is None else ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Decimal places of the numbers Alpaca writes as strings, by kind (see `decimal_text`).
MONEY_PLACES = 2  # dollars: openapi/trading.yaml Position example ("cost_basis": "349.56")
PRICE_PLACES = 4  # per share: sub-penny prices carry 4 (docs/trading-orders.md, "Sub-penny")
QTY_PLACES = 9  # shares: "up to 9 decimal points" (openapi/trading.yaml, DELETE positions qty)
RATIO_PLACES = 16  # fractions: Position example "unrealized_plpc": "-0.0028035244307129"
_WIDE = Context(prec=60)  # room for every digit a quantize below keeps


def decimal_text(x: float | None, places: int) -> str | None:
    """`x` as Alpaca writes a number: a string of the decimal rounded to `places` (half-even,
    on the exact binary value, as f"{x:.2f}" rounds), trailing zeros dropped, so float noise
    ("99577.04000000001") never shows."""
    if x is None:
        return None
    exact = Decimal(float(x)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN, _WIDE)
    text = format(exact, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def num(x: float | None) -> str | None:
    """A share quantity (qty, filled_qty, qty_available, cum_qty)."""
    return decimal_text(x, QTY_PLACES)


def money(x: float | None) -> str | None:
    """A dollar amount (cash, equity, buying power, market value, cost basis, P/L, notional)."""
    return decimal_text(x, MONEY_PLACES)


def price(x: float | None) -> str | None:
    """A price per share (filled_avg_price, avg_entry_price, current_price, fill price)."""
    return decimal_text(x, PRICE_PLACES)


def ratio(x: float | None) -> str | None:
    """A fraction (unrealized_plpc, change_today)."""
    return decimal_text(x, RATIO_PLACES)


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
        "notional": money(order.notional),
        "qty": num(order.qty),
        "filled_qty": num(order.filled_qty),
        "filled_avg_price": price(order.filled_avg_price),
        "order_class": "",
        "order_type": "market",
        "type": "market",
        "side": order.side.value,
        "position_intent": "buy_to_open" if order.side == Side.BUY else "sell_to_close",
        "time_in_force": order.time_in_force.value,
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
    """The numbers and standing an account body is made of (the rest of it is constant)."""

    account_id: str
    cash: float
    equity: float
    margin: Margin
    last_equity: float
    created_at: pd.Timestamp
    standing: AccountFlags


def account_json(a: AccountFigures) -> dict:
    m, flags = a.margin, a.standing
    return {
        "id": a.account_id,
        "account_number": "PA" + a.account_id.replace("-", "")[:10].upper(),
        "status": flags.status.value,
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "buying_power": money(m.buying_power),
        "regt_buying_power": money(m.regt_buying_power),
        "daytrading_buying_power": money(m.daytrading_buying_power),
        "non_marginable_buying_power": money(m.non_marginable_buying_power),
        "options_buying_power": money(m.non_marginable_buying_power),  # options: paid in full
        "cash": money(a.cash),
        "accrued_fees": "0",
        "pending_transfer_out": "0",
        "pending_transfer_in": "0",
        "portfolio_value": money(a.equity),
        "equity": money(a.equity),
        "last_equity": money(a.last_equity),
        "long_market_value": money(a.equity - a.cash),
        "short_market_value": "0",
        "initial_margin": money(m.initial_margin),
        "maintenance_margin": money(m.maintenance_margin),
        "last_maintenance_margin": money(m.maintenance_margin),  # positions marked at last close
        "sma": "0",
        "daytrade_count": 0,
        "multiplier": str(m.multiplier),
        "pattern_day_trader": flags.pattern_day_trader,
        "trading_blocked": flags.trading_blocked,
        "transfers_blocked": False,
        "account_blocked": flags.account_blocked,
        "trade_suspended_by_user": flags.trade_suspended_by_user,
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
    qty, cost, last, prev = p.qty, p.cost, p.price, p.prev
    value = qty * last if last is not None else cost
    moved = bool(last and prev)
    return {
        "asset_id": stable_id("asset", p.symbol),
        "symbol": p.symbol,
        "exchange": "",
        "asset_class": "us_equity",
        "asset_marginable": True,  # S&P 500 stocks: the margin model (margin.py)
        "avg_entry_price": price(cost / qty),
        "qty": num(qty),
        "qty_available": num(p.available),
        "side": "long",
        "market_value": money(value),
        "cost_basis": money(cost),
        "unrealized_pl": money(value - cost),
        "unrealized_plpc": ratio((value - cost) / cost if cost else 0.0),
        "unrealized_intraday_pl": money(qty * (last - prev) if moved else 0.0),
        "unrealized_intraday_plpc": ratio(last / prev - 1 if moved else 0.0),
        "current_price": price(last),
        "lastday_price": price(prev),
        "change_today": ratio(last / prev - 1 if moved else 0.0),
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
        "marginable": True,  # S&P 500 stocks: the margin model (margin.py)
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": True,
        "attributes": [],
    }
