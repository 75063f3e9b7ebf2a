"""The simulated session clock: the instant the broker lives at, what the calendar says about
it, and what happens as it moves. Moving forward crosses opens and closes in time order; at each
one the orders of that session not tried yet are filled, and at a close the day orders still open
expire and the day's closing equity is recorded. Only forward: a client that saw a fill must
never see it undone.

Fill timing (STRATEGY.md): a market order fills at the open of the session it belongs to (the
session open when it was sent, else the next one), whole qty, in arrival order. A fill becomes
visible only on a request (not an order submission: a burst of buys is checked against the
buying power before any of them fills) at least `fill_delay` wall seconds after the order was
sent (clients must poll, `PaperBroker.settle`), or when the clock is moved (market time
passes, so every wall-clock delay is over: fills, then requested cancels, land before the
clock moves on).

At an open, the orders queued for it go from `accepted` to `new` (routed), are tried, and the
market-on-open (`opg`) ones still open are canceled: they only take part in the opening auction
(docs/trading-orders.md, "Time in Force"). At a close, day orders still open expire. In the
realistic open (`openmodel`) the orders queued for the open wait for their symbol's auction, an
instant after the open that the clock crosses like an open or a close.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from infra.paperbroker import errors
from infra.paperbroker.book import OrderBook
from infra.paperbroker.calendar import NY, SimCalendar
from infra.paperbroker.orders import Order
from infra.paperbroker.wire import ClockReading, iso
from market import Market, MarketDataError

# What happens first at one instant: a close, then an open, then the auctions after it.
EVENT_ORDER = {"close": 0, "open": 1, "auction": 2}


def check_sessions(calendar: SimCalendar, market: Market, start: date) -> pd.Timestamp:
    """`start` as a session of `calendar`, once `market`'s bars are known to fall on its
    sessions only (the clock follows XNYS; a bar on another day could never be reached)."""
    off = market.sessions.difference(calendar.sessions)
    if len(off):
        raise MarketDataError(
            f"{market.name}: {len(off)} bar date(s) are not NYSE sessions, first "
            f"{off[0].date()}; the broker's clock follows the XNYS calendar"
        )
    start_ts = pd.Timestamp(start)
    if not calendar.is_session(start_ts):
        nxt = calendar.sessions[calendar.sessions.searchsorted(start_ts)]
        raise ValueError(
            f"start {start_ts.date()} is not an NYSE session; the next one is {nxt.date()}"
        )
    return start_ts


def utc_instant(when: pd.Timestamp) -> pd.Timestamp:
    """`when` in UTC; a naive time is New York's (what an operator means by 09:35)."""
    ts = pd.Timestamp(when)
    ts = ts.tz_localize(NY) if ts.tzinfo is None else ts
    return ts.tz_convert("UTC")


class SessionClock:
    """Starts at the open of session `start`. Instants are tz-aware UTC, sessions tz-naive
    midnights, session indexes those of `calendar`."""

    def __init__(self, calendar: SimCalendar, start: pd.Timestamp) -> None:
        self.calendar = calendar
        self.started: pd.Timestamp = calendar.open_of(calendar.index_of(start))
        self.now: pd.Timestamp = self.started

    def reading(self) -> ClockReading:
        cal, now = self.calendar, self.now
        i = cal.open_session(now)
        nxt_open = cal.open_of(cal.next_open_index(now))
        nxt_close = cal.close_of(i if i is not None else cal.next_close_index(nxt_open))
        return ClockReading(now, i is not None, nxt_open, nxt_close)

    def open_day(self) -> pd.Timestamp | None:
        """The session open now, if any."""
        i = self.calendar.open_session(self.now)
        return None if i is None else self.calendar.sessions[i]

    def fill_session(self) -> int:
        """The session an order sent now fills in: the open one, else the next one."""
        return self.calendar.fill_session(self.now)

    def mark_day(self) -> pd.Timestamp | None:
        """The last session closed by now: positions are marked at its closes."""
        i = self.calendar.last_closed_index(self.now)
        return self.calendar.sessions[i] if i >= 0 else None

    def prev_mark_day(self) -> pd.Timestamp | None:
        """The session before `mark_day` (a position's "last day" price)."""
        i = self.calendar.last_closed_index(self.now)
        return self.calendar.sessions[i - 1] if i >= 1 else None

    def next_open_at(self) -> pd.Timestamp:
        return self.calendar.open_of(self.calendar.next_open_index(self.now))

    def close_at(self) -> pd.Timestamp:
        """The close of the session open now, else of the next session."""
        return self.calendar.close_of(self.calendar.next_close_index(self.now))

    def advance(self, new: pd.Timestamp, book: OrderBook,
                attempt: Callable[[Order, int], None]) -> None:
        """Move to `new`, applying every open and close crossed to `book`. `attempt(order, i)`
        tries one order at session i's open (the caller counts it as a change)."""
        if new < self.now:
            raise errors.unprocessable(
                f"time cannot move backwards ({iso(new)} < {iso(self.now)})"
            )
        events = self.calendar.crossings(self.now, new) + _auctions(book, self.now, new)
        for instant, kind, i in sorted(events, key=lambda e: (e[0], EVENT_ORDER[e[1]])):
            self.now = instant
            if kind == "open":
                book.route(i, instant)
            for order in book.due(i, now=instant):
                attempt(order, i)
            if kind == "open":
                book.end_auction(i, instant)
            if kind == "close":
                book.expire(i, instant)
                day = self.calendar.sessions[i].strftime("%Y-%m-%d")
                book.closing_equity[day] = book.equity(self.mark_day())
        self.now = new


def _auctions(book: OrderBook, old: pd.Timestamp, new: pd.Timestamp
              ) -> list[tuple[pd.Timestamp, str, int]]:
    """The opening auctions in (old, new] that open orders of `book` wait for, as events."""
    return [(at, "auction", i) for at, i in sorted(
        {(o.fill_at, o.session) for o in book.orders
         if o.is_open and o.fill_at is not None and old < o.fill_at <= new})]
