"""The broker's changing state, and its JSON form: what a stopped broker saves and resumes from
(`server.Snapshot` writes it to a file). A snapshot carries the market's name and the start
session, and only a broker built on the same two may load it: its session indexes and prices
would mean something else on any other."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from enum import StrEnum

import pandas as pd

from alpaca_adapter.values import OrderStatus
from infra.paperbroker.account import AccountFlags
from infra.paperbroker.book import OrderBook
from infra.paperbroker.calendar import SimCalendar
from infra.paperbroker.clock import SessionClock
from infra.paperbroker.faults import FaultInjector
from infra.paperbroker.orders import Order, TimeInForce
from infra.paperbroker.prices import Prices
from infra.paperbroker.wire import iso
from strategy import Side
from strategy.ledger import Fill


@dataclass
class BrokerState:
    """Everything that changes as the broker runs: the clock, the book, the fault injector's
    draws, the requests counted per route and per client order id, and the account's standing."""

    clock: SessionClock
    book: OrderBook
    faults: FaultInjector
    requests: Counter[str] = field(default_factory=Counter)
    orders_by_cid: Counter[str] = field(default_factory=Counter)
    account: AccountFlags = field(default_factory=AccountFlags)

    def stats(self) -> dict:
        """GET /_sim/stats: what clients asked for and what came of it."""
        return {
            "requests": dict(self.requests),
            "orders_by_client_order_id": dict(self.orders_by_cid),
            "faults_injected": self.faults.injected,
            "time": iso(self.clock.now),
            "orders": len(self.book.orders),
            "fills": len(self.book.fills),
        }


def dump(state: BrokerState, market: str, start: pd.Timestamp) -> dict:
    book = state.book
    return {
        "market": market,
        "start": start.strftime("%Y-%m-%d"),
        "now": state.clock.now.isoformat(),
        "cash": book.cash,
        "positions": book.positions,
        "orders": [order_to_dict(o) for o in book.orders],
        "fills": [[f.date.isoformat(), f.symbol, str(f.side), f.qty, f.price]
                  for f in book.fills],
        "closing_equity": book.closing_equity,
        "requests": dict(state.requests),
        "orders_by_client_order_id": dict(state.orders_by_cid),
        "faults": state.faults.to_dict(),
        "account": state.account.to_dict(),
    }


def load(data: dict, market: str, start: pd.Timestamp, calendar: SimCalendar,
         prices: Prices) -> BrokerState:
    """The state `dump` saved, for a broker serving `market` from `start`."""
    if data.get("market") != market or data.get("start") != start.strftime("%Y-%m-%d"):
        raise ValueError(
            f"snapshot is of market {data.get('market')!r} from {data.get('start')}, "
            f"this broker serves {market!r} from {start.date()}"
        )
    clock = SessionClock(calendar, start)
    clock.now = pd.Timestamp(data["now"])
    book = OrderBook(
        prices, float(data["cash"]),
        positions={s: [float(q), float(c)] for s, (q, c) in data["positions"].items()},
        orders=[order_from_dict(o) for o in data["orders"]],
        fills=[Fill(date.fromisoformat(d), s, Side(side), q, p)
               for d, s, side, q, p in data["fills"]],
        closing_equity=dict(data["closing_equity"]),
    )
    return BrokerState(clock, book, FaultInjector.from_dict(data["faults"]),
                       Counter(data["requests"]), Counter(data["orders_by_client_order_id"]),
                       AccountFlags.from_dict(data["account"]))


def order_to_dict(order: Order) -> dict:
    out = asdict(order)
    out.pop("ready_at")  # wall-clock instants of the process that is gone
    out.pop("cancel_due")
    for k, v in out.items():
        if isinstance(v, pd.Timestamp):
            out[k] = v.isoformat()
        elif isinstance(v, StrEnum):
            out[k] = v.value
    return out


def order_from_dict(data: dict) -> Order:
    values = {}
    for f in fields(Order):
        if f.name not in data:
            continue
        v = data[f.name]
        if f.name.endswith("_at") and f.name != "ready_at" and v is not None:
            v = pd.Timestamp(v)
        values[f.name] = v
    values["side"] = Side(values["side"])
    values["status"] = OrderStatus(values["status"])
    values["time_in_force"] = TimeInForce(values.get("time_in_force", TimeInForce.DAY))
    return Order(**values)
