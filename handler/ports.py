"""Every interface the morning talks through: the broker, the bars, time, the journal, and the
operator's three (the kill switch a person flips without a deploy, the daily message a person
reads, and the marks that message measures returns from).

The run (`handler.morning`) sees only these Protocols; alpaca-py and boto3 stay inside their
adapters (`alpaca_adapter.trading`, `alpaca_adapter.data`, `handler.journal`, `handler.switch`,
`handler.notify`, `handler.marks`). The values crossing them sit below, in `handler.values`,
`handler.outcome` and `alpaca_adapter.values`. Tests swap in the local paper broker, DynamoDB
Local and a loopback stand-in of SSM and SNS (`infra.local_aws`), or a fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from alpaca_adapter.values import (
    Account,
    BarsResult,
    LatestTrades,
    MarketClock,
    OrderState,
    TimeInForce,
)
from handler.outcome import RunOutcome
from handler.values import (
    BookMorning,
    Claim,
    Decision,
    JournalEntry,
    JournalStatus,
    Mark,
    Marks,
    Message,
)
from strategy import Side


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


class Journal(Protocol):
    def claim(self, key: str, owner: str, lease_seconds: float) -> Claim: ...

    def store_plan(self, key: str, owner: str, decision: Decision) -> None: ...

    def record_order(self, key: str, owner: str, order: OrderState) -> None: ...

    def advance(self, key: str, owner: str, phase: JournalStatus) -> None: ...

    def done(self, key: str, owner: str, outcome: RunOutcome) -> None: ...

    def release(self, key: str, owner: str) -> None: ...

    def get(self, key: str) -> JournalEntry | None: ...

    def book_mornings(self, account_id: str) -> dict[str, BookMorning]:
        """Every morning of `account_id` in the journal, by its ISO run date, as the book
        needs it."""
        ...


class TradingSwitch(Protocol):
    def enabled(self, fresh: bool = False) -> bool:
        """True when mornings may send orders; raises `handler.switch.SwitchError` when the
        switch cannot be read or holds anything but true/false. `fresh`: past any cache."""
        ...


class Publisher(Protocol):
    def publish(self, message: Message) -> None: ...


class MarkBook(Protocol):
    def record(self, account_id: str, mark: Mark) -> Marks:
        """Store `mark` as the account's latest (and first, if none is stored yet) and return
        the marks it is measured from."""
        ...
