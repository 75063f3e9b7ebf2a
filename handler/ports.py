"""The small interfaces the morning run talks through, and the journal's and market data's plain
data crossing them (the broker's values and refusals: `alpaca_adapter.values`).

The run (`handler.morning`) sees only these Protocols and dataclasses; alpaca-py and boto3 stay
inside their adapters. Tests swap in the local paper broker and DynamoDB Local, or a fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from alpaca_adapter.values import (
    Account,
    BarsResult,
    LatestTrades,
    MarketClock,
    OrderState,
    TimeInForce,
)
from strategy import Side

if TYPE_CHECKING:  # annotations only: both modules import this one
    from handler.decision import Decision
    from handler.outcome import RunOutcome


class Waiter(Protocol):
    """Time passing until an instant: real time in Lambda; locally the paper broker's
    simulated clock is moved there instead (infra/sim_clock.py), so no run sleeps for real."""

    def wait_until(self, instant: datetime) -> None: ...

    def pause(self, seconds: float) -> None:
        """`seconds` pass between two polls of the orders (locally: on the broker's clock,
        which is what makes its auctions happen)."""


class Broker(Protocol):
    def clock(self) -> MarketClock: ...

    def sessions(self, start: date, end: date) -> list[date]: ...

    def account(self) -> Account: ...

    def positions(self) -> dict[str, int]: ...

    def submit_market_order(
        self, symbol: str, side: Side, qty: int, client_order_id: str,
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> OrderState: ...

    def get_order(self, order_id: str) -> OrderState: ...

    def get_order_by_client_id(self, client_order_id: str) -> OrderState | None: ...

    def list_orders(self, symbols: Sequence[str], after: datetime) -> list[OrderState]: ...

    def cancel_order(self, order_id: str) -> None: ...


class BarSource(Protocol):
    def daily_bars(self, symbols: Sequence[str], start: date, end: date) -> BarsResult: ...

    def latest_trades(self, symbols: Sequence[str]) -> LatestTrades: ...


class JournalStatus(StrEnum):
    """The phase a morning reached, in order; stored as the journal item's `status` (see
    `handler.journal` for the item layout). A resumed morning goes on from it: the orders
    already in the journal are looked up, never sent again (`handler.execution`)."""

    CLAIMED = "CLAIMED"  # held by an invocation, nothing decided yet
    PLANNED = "PLANNED"  # plan stored: from here on the morning only resumes it
    SELLS_SENT = "SELLS_SENT"  # every sell sent (or refused); the open may still be ahead
    SELLS_DONE = "SELLS_DONE"  # the market is open and every sell is terminal
    BUYS_SENT = "BUYS_SENT"  # every buy sent (or refused); their fills are awaited
    DONE = "DONE"  # final: the summary is stored

    def reached(self, phase: JournalStatus) -> bool:
        """This status is `phase` or a later one (the statuses are the morning's phases, in
        order)."""
        order = list(JournalStatus)
        return order.index(self) >= order.index(phase)


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this invocation holds the morning (fresh, or taken over)
    DONE = "done"  # the morning is finished: its stored summary is the answer
    IN_PROGRESS = "in_progress"  # another live invocation holds it


@dataclass
class JournalEntry:
    """One morning's durable record, as domain values."""

    status: JournalStatus
    owner: str
    decision: Decision | None = None  # stored before the first order is sent
    orders: dict[str, OrderState] = field(default_factory=dict)  # by client_order_id
    summary: dict[str, Any] | None = None  # the JSON summary, when DONE


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    entry: JournalEntry


class Journal(Protocol):
    def claim(self, key: str, owner: str, lease_seconds: float) -> Claim: ...

    def store_plan(self, key: str, owner: str, decision: Decision) -> None: ...

    def record_order(self, key: str, owner: str, order: OrderState) -> None: ...

    def advance(self, key: str, owner: str, phase: JournalStatus) -> None: ...

    def done(self, key: str, owner: str, outcome: RunOutcome) -> None: ...

    def release(self, key: str, owner: str) -> None: ...

    def get(self, key: str) -> JournalEntry | None: ...

    def mornings(self, account_id: str) -> dict[str, JournalEntry]:
        """Every morning of `account_id` in the journal, by its ISO run date."""
        ...
