"""The plain values the Alpaca side of the morning deals in: an order's status, time in force
and state, the account and its status, the market clock, the data feed, market data's answers,
and the broker's refusals as exceptions.

Values only (strategy's `Side` aside): `handler.ports` names them in its Protocols, the clients
(`alpaca_adapter.trading`, `alpaca_adapter.data`) build them from Alpaca's answers
(`alpaca_adapter.parsing`), and the run and the paper broker read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from strategy import Side

# The market's time zone: Alpaca's sessions, clock, bar dates and opening auctions are New York's.
NEW_YORK = ZoneInfo("America/New_York")


class OrderStatus(StrEnum):
    """An order's status as Alpaca reports it (docs/trading-orders.md, "Order Lifecycle")."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"

    @property
    def terminal(self) -> bool:
        """No further change will come: the order will neither fill more nor be canceled."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.DONE_FOR_DAY,
        OrderStatus.REPLACED,
    }
)


@dataclass(frozen=True)
class MarketClock:
    """The broker's clock (GET /v2/clock). `next_open` tells a morning before today's open from
    one after the close: both read `is_open` false."""

    timestamp: datetime
    is_open: bool
    next_open: datetime | None = None


class TimeInForce(StrEnum):
    """The two time-in-force values the run sends (docs/trading-orders.md, "Time in Force"):
    `opg` executes only in the opening auction (accepted before 09:28 or after 19:00 New York,
    canceled if unfilled after the open); `day` is live for the session."""

    DAY = "day"
    OPG = "opg"


class AccountStatus(StrEnum):
    """Alpaca's account status (openapi/trading.yaml, AccountStatus): "Most likely, the account
    status is ACTIVE unless there is any problem"; only ACTIVE trades."""

    ONBOARDING = "ONBOARDING"
    SUBMISSION_FAILED = "SUBMISSION_FAILED"
    SUBMITTED = "SUBMITTED"
    ACCOUNT_UPDATED = "ACCOUNT_UPDATED"
    APPROVAL_PENDING = "APPROVAL_PENDING"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"


class Feed(StrEnum):
    """The feeds Alpaca's stock bars and latest trades take (DATA_FEED); not alpaca-py's
    delayed_sip, which the endpoint refuses (400 "invalid feed")."""

    IEX = "iex"
    SIP = "sip"
    BOATS = "boats"
    OVERNIGHT = "overnight"
    OTC = "otc"


@dataclass(frozen=True)
class Account:
    """The account's money and whether it may trade. `status` is Alpaca's AccountStatus value;
    the three flags are TradeAccount's (openapi/trading.yaml, Account: each "not allowed to
    place orders" or "activity by user is prohibited")."""

    account_id: str
    cash: float
    equity: float
    status: AccountStatus | str = AccountStatus.ACTIVE  # str: a status newer than the enum
    trading_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False

    def blocks(self) -> tuple[str, ...]:
        """What stops this account from trading (empty: nothing). Every order of a blocked
        account would be refused, so the morning is skipped before it claims anything."""
        flags = {
            f"status {self.status}": self.status != AccountStatus.ACTIVE,
            "trading_blocked": self.trading_blocked,
            "account_blocked": self.account_blocked,
            "trade_suspended_by_user": self.trade_suspended_by_user,
        }
        return tuple(name for name, on in flags.items() if on)


@dataclass(frozen=True)
class OrderState:
    """An order as the broker reports it (plain values, never an SDK model)."""

    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: int
    status: OrderStatus
    filled_qty: int = 0
    filled_avg_price: float | None = None
    refused: str | None = None  # a buy refused for buying power: why (never sent, no error)
    # opg or day, as the broker reports it: an on-open order is never canceled after 09:28
    time_in_force: TimeInForce | None = None
    unsellable: str | None = None  # a sell left unsold at the morning's end: why

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "status", OrderStatus(self.status))
        if self.time_in_force is not None:
            object.__setattr__(self, "time_in_force", TimeInForce(self.time_in_force))

    @property
    def on_open(self) -> bool:
        """An `opg` order: Alpaca neither cancels nor modifies it after 09:28 (forum thread
        7992), so the morning waits for the auction to fill or expire it."""
        return self.time_in_force == TimeInForce.OPG

    @property
    def terminal(self) -> bool:
        return self.status.terminal

    def to_dict(self) -> dict[str, Any]:
        """The JSON view, in the summary and the journal item (`from_dict` reads it back)."""
        view = {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "status": self.status.value,
            "filled_qty": self.filled_qty,
            "filled_avg_price": self.filled_avg_price,
        }
        extra = {"refused": self.refused, "unsellable": self.unsellable,
                 "time_in_force": self.time_in_force and self.time_in_force.value}
        return {**view, **{key: value for key, value in extra.items() if value is not None}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrderState:
        price = data.get("filled_avg_price")
        return cls(
            order_id=str(data["order_id"]),
            client_order_id=str(data["client_order_id"]),
            symbol=str(data["symbol"]),
            side=Side(data["side"]),
            qty=int(data["qty"]),
            status=OrderStatus(data["status"]),
            filled_qty=int(data.get("filled_qty") or 0),
            filled_avg_price=None if price is None else float(price),
            refused=data.get("refused"),
            time_in_force=data.get("time_in_force"),
            unsellable=data.get("unsellable"),
        )


class OrderRejected(Exception):
    """The broker refused a new order (not a duplicate): insufficient cash, unknown symbol..."""


class BuyingPowerRefused(OrderRejected):
    """Alpaca's 403 "insufficient buying power": if not ours already, a refusal, no error."""


class OpgWindowRefused(OrderRejected):
    """Alpaca's 403 for an `opg` order sent from 09:28 to 19:00: the order never existed, so
    the morning sends it as a day market order after the open, under the same client order id."""


class BrokerUnavailable(Exception):
    """A read the broker did not answer (HTTP 5xx after the client's retries, a dropped
    connection, a timeout): asking again later may work. A poll that gets it is a missed poll."""


class CredentialsRefused(Exception):
    """Alpaca answered 401/403: the keys are wrong, revoked or for the other endpoint. Raised so
    the invocation fails (the alarm fires) with a message that says what to fix."""


class DuplicateClientOrderId(Exception):
    """The broker already holds an order with this client_order_id (HTTP 422)."""


@dataclass
class BarsResult:
    """Daily bars as a long frame (date, symbol, close), how many requests it took, and which
    feed answered: `refused` is Alpaca's refusal of the configured feed when `feed` is the
    fallback (never a silent switch: the run logs it, counts it and stores it)."""

    bars: pd.DataFrame
    requests: int
    feed: str
    refused: str | None = None


@dataclass(frozen=True)
class LatestTrades:
    """Each symbol's latest trade price (none: left out) and when it traded (`times`; a symbol
    left out there has no time to judge it by); `feed`, `refused` as in BarsResult."""
    prices: dict[str, float]
    feed: str
    refused: str | None = None
    times: dict[str, datetime] = field(default_factory=dict)

    def fresh(self, since: datetime) -> LatestTrades:
        """Only the prices traded at `since` or later (a trade from before today's open is
        yesterday's, or a pre-market print: a buy valued at it could borrow)."""
        stale = {s for s, at in self.times.items() if at < since}
        return LatestTrades({s: p for s, p in self.prices.items() if s not in stale}, self.feed,
                            self.refused, {s: t for s, t in self.times.items() if s not in stale})
