"""The realistic open applied to the broker's orders: which auction an order waits for, how each
attempt fills it (`openmodel.Execution`), what happens after, and which cancels the venue no
longer takes. The draws are `openmodel.OpenModel`'s; the fill arithmetic stays in
`strategy.fills` through `book.OrderBook.fill`."""

from __future__ import annotations

import dataclasses
import time

import pandas as pd

from alpaca_adapter.values import OrderStatus
from infra.paperbroker.calendar import SimCalendar
from infra.paperbroker.openmodel import REALISTIC_COLLAR, Auction, Execution, OpenModel
from infra.paperbroker.orders import Order, TimeInForce
from infra.paperbroker.prices import Prices

# On-open orders cannot be canceled or modified from 09:28, this long before the open (Alpaca
# staff, community forum thread 7992; ../shared/alpaca-reference/OPEN-EVIDENCE.md).
CANCEL_CUTOFF = pd.Timedelta(minutes=2)


@dataclasses.dataclass(frozen=True)
class RealisticOpen:
    """The broker's realistic open: `model`'s draws over the served bars and calendar."""

    model: OpenModel
    prices: Prices
    calendar: SimCalendar
    fill_delay: float  # wall seconds before the rest of a paper partial fill may show
    collar: float = REALISTIC_COLLAR

    def auction(self, symbol: str, session: int) -> Auction | None:
        """`symbol`'s opening auction in `session` (None: no usable open, no auction)."""
        day = self.calendar.sessions[session]
        bar = self.prices.bar_on(symbol, day)
        if bar is None:
            return None
        return self.model.auction(day, symbol, self.calendar.open_of(session), bar)

    def auction_wait(self, order: Order, now: pd.Timestamp) -> pd.Timestamp | None:
        """The auction an order sent at `now` waits for: its symbol's, if still ahead."""
        auction = self.auction(order.symbol, order.session)
        return auction.at if auction is not None and now < auction.at else None

    def execution(self, order: Order, day: pd.Timestamp) -> Execution | None:
        """How `order` fills now: at its auction's price (an opg only its drawn share), or,
        sent after the auction, at the open moved against it (all that is left of a partial)."""
        bar = self.prices.bar_on(order.symbol, day)
        if bar is None:
            return None
        if order.fill_at is not None:
            price = self.auction(order.symbol, order.session).price
            if order.time_in_force == TimeInForce.OPG:
                return Execution(price, share=self.model.opg_share(day, order.symbol,
                                                                   order.client_order_id))
            return Execution(price)
        run = self.model.after_open(day, order.symbol, order.client_order_id, order.side, bar)
        return dataclasses.replace(run, share=1.0) if order.filled_qty else run

    def after_attempt(self, order: Order, now: pd.Timestamp) -> None:
        """After its auction (or the open, for a symbol with none: no usable open) the rest of
        an opg expires and a cancel held back lands; after a paper partial fill the rest is
        tried again `fill_delay` wall seconds later."""
        if order.time_in_force == TimeInForce.OPG and order.is_open:
            order.set_status(OrderStatus.EXPIRED, now)
        if order.fill_at is not None:
            if order.cancel_locked:
                order.cancel_locked, order.cancel_due = False, time.monotonic()
        elif order.status == OrderStatus.PARTIALLY_FILLED and order.fault is None:
            order.attempted = False
            order.ready_at = time.monotonic() + self.fill_delay

    def cancel_locked(self, order: Order, now: pd.Timestamp) -> bool:
        """Whether the venue refuses a cancel of `order` at `now`: it waits for its opening
        auction and it is 09:28 or later (CANCEL_CUTOFF before the open)."""
        return (order.fill_at is not None and not order.attempted
                and now >= self.calendar.open_of(order.session) - CANCEL_CUTOFF)
