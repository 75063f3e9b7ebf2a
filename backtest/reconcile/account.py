"""What an Alpaca account did, read through alpaca-py and turned into typed records here, at the
boundary: its fills (GET /v2/account/activities?activity_types=FILL, paged), its equity at each
close (GET /v2/account/portfolio/history, timeframe 1D) and the orders it was sent in the window
(GET /v2/orders?status=all: what became of an order that did not fill).

The client is the function's (`alpaca_adapter.trading.trading_client`: its timeouts and paced
429 retries), on the keys and endpoint read as the function reads them (`alpaca_adapter.settings`).
TradingClient 0.44 has `get_portfolio_history` but no call for account activities, so those go
through its generic `get` (same session, keys, timeouts and retries). Paging follows Alpaca's
reference: oldest first (`direction=asc`), at most 100 a page, the next page asked with the id
of the last entry as `page_token`, until a page comes back short. Alpaca reports one entry per
execution (several `partial_fill`s for one order); they are summed per order here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import pandas as pd
from alpaca.common.enums import Sort
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest, GetPortfolioHistoryRequest

from alpaca_adapter.settings import AlpacaAccess
from alpaca_adapter.trading import trading_client
from alpaca_adapter.values import NEW_YORK
from backtest.reconcile.compare import AccountFill, AccountOrder, EquityPoint
from strategy import Side

ACCOUNT_KEYS = "to the keys of the account to reconcile (see docs/reconcile.md)"
PAGE_SIZE = 100  # Alpaca's cap without `date`
ORDERS_PAGE = 500  # GET /v2/orders `limit`: "Defaults to 50 and max is 500"
AFTER_HOURS = time(20)  # the end of a session's extended hours: `end` of the history asked
LOOK_BACK = timedelta(days=10)  # history asked from before the window: the session before it


class TradingApi(Protocol):
    """The calls of alpaca-py's TradingClient this module uses."""

    def get(self, path: str, data: dict | None = None) -> Any: ...

    def get_orders(self, filter: GetOrdersRequest) -> Any: ...

    def get_portfolio_history(self, history_filter: GetPortfolioHistoryRequest) -> Any: ...


def account_client(access: AlpacaAccess) -> TradingClient:
    """alpaca-py's TradingClient on the account of `access`, hardened as the function's."""
    client, _ = trading_client(access.keys, access.settings)
    return client


@dataclass(frozen=True)
class Execution:
    """One FILL activity as Alpaca sends it, typed."""

    order_id: str
    when: pd.Timestamp
    symbol: str
    side: Side
    qty: float
    price: float
    leaves_qty: float


@dataclass(frozen=True)
class AccountHistory:
    """Every fill up to the window's end, and the equity from shortly before the window to its
    end; `base_value` is Alpaca's P/L basis (the equity before the first point)."""

    fills: tuple[AccountFill, ...]
    equity: tuple[EquityPoint, ...]
    base_value: float | None
    orders: tuple[AccountOrder, ...] = ()  # the orders sent within the window


def read_account(client: TradingApi, first: date, last: date) -> AccountHistory:
    """The account's fills up to the end of `last` and its equity from a little before `first`
    (so the session before the window is in) to `last`."""
    until = datetime.combine(last + timedelta(days=1), time(), NEW_YORK)
    executions = [parse_execution(row) for row in fill_pages(client, until)]
    history = client.get_portfolio_history(GetPortfolioHistoryRequest(
        timeframe="1D",
        start=datetime.combine(first - LOOK_BACK, time(), NEW_YORK),
        end=datetime.combine(last, AFTER_HOURS, NEW_YORK),
    ))
    return AccountHistory(
        fills=orders_of(executions),
        equity=equity_points(history.timestamp, history.equity),
        base_value=history.base_value,
        orders=sent_orders(client, datetime.combine(first, time(), NEW_YORK), until),
    )


def sent_orders(client: TradingApi, after: datetime, until: datetime
                ) -> tuple[AccountOrder, ...]:
    """Every order submitted in (after, until), whatever its status, oldest first; the next
    page starts after the last order's submission time."""
    orders: list[AccountOrder] = []
    while True:
        page = client.get_orders(GetOrdersRequest(
            status=QueryOrderStatus.ALL, after=after, until=until, direction=Sort.ASC,
            limit=ORDERS_PAGE))
        orders += [_order(o) for o in page if o.qty is not None]
        if len(page) < ORDERS_PAGE:
            return tuple(orders)
        after = page[-1].submitted_at


def fill_pages(client: TradingApi, until: datetime) -> list[Mapping[str, Any]]:
    """Every FILL activity before `until`, oldest first, page after page."""
    params: dict[str, Any] = {"activity_types": "FILL", "direction": "asc",
                              "page_size": PAGE_SIZE, "until": until.isoformat()}
    rows: list[Mapping[str, Any]] = []
    while True:
        page = client.get("/account/activities", params)
        if not isinstance(page, list):
            raise ValueError(f"account activities: expected a list, got {type(page).__name__}")
        rows += page
        if len(page) < PAGE_SIZE:
            return rows
        params = {**params, "page_token": page[-1]["id"]}


def parse_execution(row: Mapping[str, Any]) -> Execution:
    """A FILL activity (openapi TradingActivities) -> Execution; `sell_short` is a sell.
    Raises ValueError naming the entry when a field is missing or not a number."""
    try:
        side = "sell" if row["side"] == "sell_short" else row["side"]
        return Execution(
            order_id=str(row["order_id"]),
            when=pd.Timestamp(row["transaction_time"]),
            symbol=str(row["symbol"]),
            side=Side(side),
            qty=float(row["qty"]),
            price=float(row["price"]),
            leaves_qty=float(row.get("leaves_qty") or 0),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"account activity {row.get('id', '?')}: cannot read {exc}") from None


def orders_of(executions: Sequence[Execution]) -> tuple[AccountFill, ...]:
    """One AccountFill per order and New York session: shares summed, price volume-weighted,
    the leaves of its latest execution. Raises ValueError for a fractional quantity."""
    groups: dict[tuple[str, date], list[Execution]] = {}
    for e in executions:
        groups.setdefault((e.order_id, e.when.tz_convert(NEW_YORK).date()), []).append(e)
    fills = []
    for (order_id, day), group in groups.items():
        qty = sum(e.qty for e in group)
        last = max(group, key=lambda e: e.when)
        if not (_whole(qty) and _whole(last.leaves_qty)):
            raise ValueError(f"order {order_id} of {group[0].symbol} filled {qty:g} shares; "
                             "the reconciliation compares whole shares only")
        price = group[0].price if len(group) == 1 else sum(e.qty * e.price for e in group) / qty
        fills.append(AccountFill(day, group[0].symbol, group[0].side, round(qty), price,
                                 order_id, round(last.leaves_qty)))
    return tuple(sorted(fills, key=lambda f: (f.day, f.symbol, f.side)))


def equity_points(timestamps: Sequence[int], equity: Sequence[float | None]
                  ) -> tuple[EquityPoint, ...]:
    """Portfolio history's parallel lists -> one point per New York day; an entry without a
    value (a day before the account was funded) is left out."""
    return tuple(
        EquityPoint(pd.Timestamp(t, unit="s", tz="UTC").tz_convert(NEW_YORK).date(), float(e))
        for t, e in zip(timestamps, equity, strict=True)
        if e is not None and math.isfinite(e)
    )


def _order(order: Any) -> AccountOrder:
    """alpaca-py's Order -> AccountOrder (its session: the New York day it was submitted)."""
    when = pd.Timestamp(order.submitted_at)
    return AccountOrder(
        day=(when.tz_localize("UTC") if when.tzinfo is None else when).tz_convert(NEW_YORK).date(),
        symbol=str(order.symbol),
        side=Side(getattr(order.side, "value", order.side)),
        qty=round(float(order.qty)),
        filled_qty=round(float(order.filled_qty or 0)),
        status=str(getattr(order.status, "value", order.status)),
    )


def _whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-9
