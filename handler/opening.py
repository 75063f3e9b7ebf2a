"""The session's open as a morning meets it: how long until it, how the sells go, waiting for it.

The schedule fires at 09:20 New York. A sell sent before the 09:28 cut-off goes as a market
order with time in force `opg`: it executes only in the opening auction, at the official open,
the price the backtest fills at (docs/trading-orders.md, "Time in Force" and "Order Handling
Standards": market orders received before 09:28 get the opening print; `opg` says so explicitly
instead of relying on the routing of a queued day order, and is canceled by Alpaca if the
auction does not fill it, so a sell never trades later in the day at another price). `opg` is
refused from 09:28 to 19:00, so a morning delivered after the cut-off (a retry, a late
delivery) waits for the open and sends its sells as day market orders; one delivered after the
open sends them at once (`ExecutionMode.AFTER_OPEN`, also selectable with EXECUTION_MODE).
Buys always go after the open, as day market orders, once the sells are terminal: Alpaca checks
a buy's buying power against the latest price when it is sent, and the fill model checks it
against the open (STRATEGY.md, "Live execution").

`sell_route` and `open_in` are pure. `Opening` reads the broker's clock and waits through the
`Waiter` port: `RealTimeWaiter` in Lambda; local runs move the paper broker's clock instead
(infra/sim_clock.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alpaca_adapter.values import NEW_YORK, MarketClock
from handler.outcome import SellRoute
from handler.ports import Broker, Waiter
from handler.values import ExecutionMode

OPG_CUTOFF = (9, 28)  # New York: opg orders are refused from here until 19:00
# An opg sell is sent only while this much is left before the cut-off: one submit with its
# HTTP retries (3 x 10 s at most) must land before it.
OPG_MARGIN = timedelta(seconds=30)
# The longest wait for the open a morning accepts (the schedule's 09:20 is 10 minutes before
# it); sized with the function's timeout (template.yaml, tests/unit/test_template.py).
MAX_OPEN_WAIT = timedelta(minutes=11)
OPEN_CHECKS = 60  # clock reads after the open is due before the run gives up (MarketNotOpen)
MIN_PAUSE_SECONDS = 1.0  # the shortest real wait: the broker's clock may lag ours a moment


class MarketNotOpen(RuntimeError):
    """The broker's clock still says closed long after its own next_open: the invocation fails
    and Lambda's retry resumes the morning from its journal."""


def open_in(clock: MarketClock) -> timedelta | None:
    """Time until today's open by the broker's clock: zero when the market is open, None when
    today's session is over (or there is none today)."""
    if clock.is_open:
        return timedelta(0)
    if clock.next_open is None:
        return None
    now = clock.timestamp.astimezone(NEW_YORK)
    if clock.next_open.astimezone(NEW_YORK).date() != now.date():
        return None
    return clock.next_open - clock.timestamp


def sell_route(mode: ExecutionMode, clock: MarketClock) -> SellRoute:
    """The route of sells sent now (`clock`: the broker's, read just before)."""
    after_open = ExecutionMode.AFTER_OPEN
    if mode == after_open:
        return SellRoute(after_open, "EXECUTION_MODE=after_open")
    if clock.is_open:
        return SellRoute(after_open, "delivered after the open", fallback=True)
    now = clock.timestamp.astimezone(NEW_YORK)
    cutoff = now.replace(hour=OPG_CUTOFF[0], minute=OPG_CUTOFF[1], second=0, microsecond=0)
    left = (cutoff - now - OPG_MARGIN).total_seconds()
    if left <= 0:
        return SellRoute(after_open, "delivered after the 09:28 cut-off", fallback=True)
    return SellRoute(ExecutionMode.OPENING_AUCTION, "before the 09:28 cut-off",
                     opg_seconds=left)


@dataclass
class RealTimeWaiter:
    """Lambda's waiter: sleeps until the machine's clock reaches the instant (at least
    MIN_PAUSE_SECONDS, so a re-read of a lagging broker clock never spins)."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def wait_until(self, instant: datetime) -> None:
        self.sleep(max((instant - self.now()).total_seconds(), MIN_PAUSE_SECONDS))

    def pause(self, seconds: float) -> None:
        self.sleep(seconds)


@dataclass
class Opening:
    """The open of today's session, read from the broker and waited for through `waiter`."""

    broker: Broker
    waiter: Waiter
    mode: ExecutionMode
    is_open: bool = False  # seen open once: the session only closes hours later

    def sell_route(self) -> SellRoute:
        clock = self.broker.clock()
        self.is_open = clock.is_open
        return sell_route(self.mode, clock)

    def wait(self) -> None:
        """Return once the broker's clock says the market is open."""
        checks = 0
        while not self.is_open:
            if checks == OPEN_CHECKS:
                raise MarketNotOpen(
                    f"the broker's clock still says closed after {OPEN_CHECKS} checks; the "
                    "retry resumes the morning"
                )
            checks += 1
            clock = self.broker.clock()
            self.is_open = clock.is_open
            if not clock.is_open:
                self.waiter.wait_until(clock.next_open or clock.timestamp)
