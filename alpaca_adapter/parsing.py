"""Alpaca's answers turned into our values: pure functions, no I/O, the only place that reads
alpaca-py's models and Alpaca's raw JSON.

Trading answers arrive as alpaca-py models (orders, the account, the clock, the calendar);
their side, status and time-in-force enums become `strategy.Side`, `OrderStatus`,
`TimeInForce` and `AccountStatus` here. Market data arrives as raw JSON (`raw_data=True`):
building 30,000 pydantic bar models only to read a few fields would cost more than the rest of
the morning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from alpaca_adapter.values import (
    NEW_YORK,
    Account,
    AccountStatus,
    MarketClock,
    OrderState,
    OrderStatus,
    TimeInForce,
)
from strategy import Side
from strategy.fills import usable_price

BAR_FIELDS = {"open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}


def bars_frame(raw: Mapping[str, list[dict]],
               fields: Sequence[str] = tuple(BAR_FIELDS)) -> pd.DataFrame:
    """Raw bars {symbol: [{"t", "o", "h", "l", "c", "v", ...}]} -> long frame (date, symbol,
    then `fields` of open, high, low, close, volume: a morning reads only the close, and each
    column costs a few ms on its 30,000 bars). `date` is the New York session day, tz-naive; a
    stamp or a price that cannot be read is NaT or NaN, for the caller's cleaning to drop and
    count."""
    flat = [bar for bars in raw.values() for bar in bars]
    symbols = pd.Series([symbol for symbol, bars in raw.items() for _ in bars], dtype="str")
    stamp = pd.to_datetime(pd.Series([bar.get("t") for bar in flat], dtype=object), utc=True,
                           errors="coerce")
    dates = stamp.dt.tz_convert(NEW_YORK).dt.tz_localize(None).dt.normalize()
    columns = {name: pd.to_numeric(pd.Series([bar.get(key) for bar in flat], dtype=object),
                                   errors="coerce").astype(float)
               for name, key in BAR_FIELDS.items() if name in fields}
    return pd.DataFrame({"date": dates.astype("datetime64[ns]"), "symbol": symbols, **columns})


def trade_prices(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Raw latest trades {symbol: {"p", "t", ...}} -> {symbol: price}, keeping the prices a buy
    can be valued at (`strategy.fills.usable_price`)."""
    prices = {symbol: trade.get("p") for symbol, trade in raw.items()}
    return {s: float(p) for s, p in prices.items() if isinstance(p, int | float)
            and usable_price(float(p))}


def trade_times(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, datetime]:
    """Raw latest trades -> {symbol: when it traded} (RFC 3339 `t`)."""
    stamps = {symbol: trade.get("t") for symbol, trade in raw.items()}
    return {s: pd.Timestamp(t).to_pydatetime() for s, t in stamps.items() if isinstance(t, str)}


def order_state(order: Any) -> OrderState:
    """alpaca-py's Order -> OrderState."""
    price = order.filled_avg_price
    return OrderState(
        order_id=str(order.id),
        client_order_id=str(order.client_order_id),
        symbol=str(order.symbol),
        side=Side(_value(order.side)),
        qty=int(float(order.qty or 0)),
        status=OrderStatus(_value(order.status)),
        filled_qty=int(float(order.filled_qty or 0)),
        filled_avg_price=None if price is None else float(price),
        time_in_force=_time_in_force(order.time_in_force),
    )


def account(model: Any) -> Account:
    """alpaca-py's TradeAccount -> Account (a status newer than `AccountStatus` kept as text:
    it is not ACTIVE, so the account is blocked, and the message names it)."""
    status = _value(model.status)
    return Account(
        account_id=str(model.id),
        cash=float(model.cash),
        equity=float(model.equity),
        status=AccountStatus(status) if status in set(AccountStatus) else status,
        trading_blocked=bool(model.trading_blocked),
        account_blocked=bool(model.account_blocked),
        trade_suspended_by_user=bool(model.trade_suspended_by_user),
    )


def clock(model: Any) -> MarketClock:
    """alpaca-py's Clock -> MarketClock."""
    return MarketClock(timestamp=model.timestamp, is_open=bool(model.is_open),
                       next_open=model.next_open)


def sessions(calendar: Iterable[Any]) -> list[date]:
    """alpaca-py's Calendar days -> their dates, ascending."""
    return sorted(day.date for day in calendar)


def _time_in_force(value: Any) -> TimeInForce | None:
    """The run's own two values; another (an order placed by hand, `gtc`) is not told apart."""
    text = _value(value) if value else ""
    return TimeInForce(text) if text in set(TimeInForce) else None


def _value(enum_or_text: Any) -> str:
    return str(getattr(enum_or_text, "value", enum_or_text))
