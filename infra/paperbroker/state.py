"""`PaperBroker`: the simulated account behind the HTTP API, one lock in front of its parts.

The parts each do one job: `clock` (the session clock and what opens and closes do),
`book` (orders, fills through `strategy.fills`, cash and positions), `validation` (order
bodies and Alpaca's refusals), `wire` (Alpaca's JSON), `snapshot` (the state saved and
resumed) and `realistic` (the realistic open, when an `openmodel.OpenModel` is given). This
front only takes the lock, hands each call to the parts, and counts changes; what it shows (the
account, positions, activities, portfolio history) is `views.AccountViews`, its market data
`views.MarketDataViews`, its faults and request counts `faultstats.FaultControls`.

Every method that reads or changes the state runs under the lock (`@locked`), so the server
thread and a test calling methods directly never see half a change. `version` grows with
every change (the server saves a snapshot when it moved; order ids are salted with it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import date

import pandas as pd

from infra.paperbroker import errors, snapshot, validation, wire
from infra.paperbroker.assets import Catalog
from infra.paperbroker.bars import BarStore
from infra.paperbroker.book import OrderBook
from infra.paperbroker.calendar import SimCalendar
from infra.paperbroker.clock import SessionClock, check_sessions, utc_instant
from infra.paperbroker.faults import FaultConfig, FaultInjector
from infra.paperbroker.faultstats import FaultControls
from infra.paperbroker.feeds import DataPlan
from infra.paperbroker.holdings import buy_holds, holds_cost
from infra.paperbroker.lock import StateLock, locked
from infra.paperbroker.openmodel import OpenModel
from infra.paperbroker.orders import Order, stable_id
from infra.paperbroker.prices import Prices
from infra.paperbroker.ratelimit import FREE_PLAN_PER_MINUTE
from infra.paperbroker.realistic import RealisticOpen
from infra.paperbroker.snapshot import BrokerState
from infra.paperbroker.views import AccountViews, MarketDataViews
from market import Market
from strategy import Side


class PaperBroker(AccountViews, MarketDataViews, FaultControls):
    def __init__(
        self, market: Market, start: date, *, key_id: str, secret_key: str,
        cash: float = 500.0, fill_delay: float = 0.0, cancel_delay: float = 0.0,
        rate_limit: int | None = FREE_PLAN_PER_MINUTE,
        faults: FaultConfig | None = None, seed: int = 0, max_page_size: int = 10_000,
        hold: Mapping[str, int] | None = None,
        open_model: OpenModel | None = None, data_plan: DataPlan = DataPlan.UNLIMITED,
    ) -> None:
        self.market = market
        self.calendar = SimCalendar()
        self.start = check_sessions(self.calendar, market, start)
        self.key_id, self.secret_key = key_id, secret_key
        self.opening_cash = float(cash)
        self.hold = dict(hold or {})  # shares the account holds from the start (`holdings`)
        self.fill_delay = float(fill_delay)
        self.cancel_delay = float(cancel_delay)
        self.rate_limit = rate_limit
        self.seed = seed
        self.open_model = open_model  # None: the exact open (STRATEGY.md's contract)
        self.data_plan = data_plan
        self.prices = Prices(market)
        self.bars = BarStore(market, max_page_size)
        self.catalog = Catalog([*market.symbols, market.benchmark])
        self.realistic = None if open_model is None else RealisticOpen(
            open_model, self.prices, self.calendar, self.fill_delay)
        self.account_id = stable_id("account", f"{key_id}:{seed}")
        book = OrderBook(self.prices, self.opening_cash)
        self.initial_cash = self.opening_cash + holds_cost(self.hold, book, self.start)
        self._lock = StateLock(self)
        self.saver: Callable[[], None] | None = None  # called after each change (snapshot)
        self.version = 0
        self._restart(faults or FaultConfig())

    def _restart(self, faults: FaultConfig) -> None:
        clock = SessionClock(self.calendar, self.start)
        book = OrderBook(self.prices, self.initial_cash)
        buy_holds(self.hold, book, self.opening_cash, self.calendar.index_of(self.start),
                  self.start, clock.now, f"{self.account_id}:hold")
        self._state = BrokerState(clock, book, FaultInjector(faults, self.seed))
        self.version += 1

    @locked
    def reset(self) -> None:
        """Back to the start: clock at the start session's open, initial cash, no orders (but
        the `hold` buys, made again)."""
        self._restart(self._state.faults.config)

    # ---- clock ---------------------------------------------------------------------------
    @locked
    def clock(self) -> dict:
        return wire.clock_json(self._state.clock.reading())

    def calendar_rows(self, start: date | None, end: date | None) -> list[dict]:
        return self.calendar.rows(start, end)

    @locked
    def next_open(self) -> dict:
        """Clock to the next session's open (09:30 New York); due orders fill."""
        return self._advance(self._state.clock.next_open_at())

    @locked
    def close(self) -> dict:
        """Clock to the close of the session open now, else of the next session."""
        return self._advance(self._state.clock.close_at())

    @locked
    def set_time(self, when: pd.Timestamp) -> dict:
        """Clock to `when` (forward only; naive = New York); every open and close crossed
        takes effect."""
        return self._advance(utc_instant(when))

    @locked
    def advance(self, seconds: float) -> dict:
        """Clock `seconds` on: a poll's pause (POST /_sim/advance). Unlike `set_time`, the
        wall-clock delays (fills, cancels) keep their own time: only those due by now land."""
        return self._advance(self._state.clock.now + pd.Timedelta(seconds=seconds),
                             time.monotonic())

    def _advance(self, new: pd.Timestamp, wall: float = math.inf) -> dict:
        self._settle(wall)  # by default market time passes: every wall-clock delay is over
        self._state.clock.advance(new, self._state.book, self._attempt)
        self.version += 1
        return self.clock()

    def _attempt(self, order: Order, session: int) -> None:
        self.version += 1
        room = self._margin(exclude=order).buying_power if order.side == Side.BUY else 0.0
        day, now = self.calendar.sessions[session], self._state.clock.now
        if self.realistic is None:
            self._state.book.fill(order, day, now, room)
            return
        self._state.book.fill(order, day, now, room, self.realistic.execution(order, day))
        self.realistic.after_attempt(order, now)

    def _cancel_locked(self, order: Order) -> bool:
        return self.realistic is not None and self.realistic.cancel_locked(
            order, self._state.clock.now)

    def settle(self, wall: float | None = None) -> None:
        """Show what is due by `wall` (default: now): fills of the open session's orders whose
        `fill_delay` has passed, then the cancels whose `cancel_delay` has."""
        with self._lock:
            self._settle(time.monotonic() if wall is None else wall)

    def _settle(self, wall: float) -> None:
        book, now = self._state.book, self._state.clock.now
        i = self.calendar.open_session(now)
        if i is not None:
            for order in book.due(i, wall, now):
                self._attempt(order, i)
        if book.land_cancels(wall, now, i, self._attempt):
            self.version += 1

    # ---- orders --------------------------------------------------------------------------
    def submit_order(self, body: object, wall: float | None = None) -> dict:
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            state, book, clock = self._state, self._state.book, self._state.clock
            fields, cid = validation.identify(body)
            state.orders_by_cid[cid] += 1
            self.version += 1
            validation.refuse_suspended(state.account)
            validation.refuse_faulted_resend(cid, book, state.faults,
                                             lambda: self._margin().buying_power)
            req = validation.parse_order(fields, cid, knows=self.prices.knows)
            validation.refuse_outside_window(req, clock.now)
            est = self._estimate(req.symbol)
            collar = None if self.realistic is None else self.realistic.collar
            hold = book.hold(req, est, clock.open_day(), collar)
            validation.refuse_unfunded(req, hold, est, self._margin().buying_power,
                                       book.available, state.account)
            validation.refuse_taken(cid, book.client_order_ids)
            order = book.place(
                req, f"{self.account_id}:{self.version}", clock.fill_session(), clock.now,
                accepted_in_session=clock.open_day() is not None, hold=hold,
                fault=state.faults.order_fault(req.symbol), ready_at=wall + self.fill_delay,
            )
            if self.realistic is not None:
                order.fill_at = self.realistic.auction_wait(order, clock.now)
            return wire.order_json(order)

    @locked
    def list_orders(self, status: str = "open", limit: int = 50, direction: str = "desc",
                    symbols: set[str] | None = None, after: pd.Timestamp | None = None,
                    until: pd.Timestamp | None = None, side: str | None = None) -> list[dict]:
        picked = self._state.book.select(status, limit, direction, symbols, after, until,
                                         side)
        return [wire.order_json(o) for o in picked]

    @locked
    def get_order(self, order_id: str) -> dict:
        return wire.order_json(self._state.book.by_id(order_id))

    @locked
    def get_order_by_client_id(self, cid: str) -> dict:
        return wire.order_json(self._state.book.by_client_id(cid))

    def cancel_order(self, order_id: str, wall: float | None = None) -> None:
        """DELETE /v2/orders/{id}: the order is `pending_cancel` until `cancel_delay` wall
        seconds have passed (or the clock moves); it can still fill until then."""
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            book = self._state.book
            order = book.by_id(order_id)
            book.cancel(order, self._state.clock.now, wall + self.cancel_delay,
                        self._cancel_locked(order))
            self.version += 1

    def cancel_all(self, wall: float | None = None) -> list[dict]:
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            pending = self._state.book.cancel_open(self._state.clock.now,
                                                   wall + self.cancel_delay, self._cancel_locked)
            self.version += 1
            return [{"id": o.id, "status": 200, "body": wire.order_json(o)} for o in pending]

    # ---- account standing and positions (reads: `views.AccountViews`) ------------------
    @locked
    def set_account(self, **fields: object) -> dict:
        """Set the account's standing (`account.AccountFlags`: status, trading_blocked,
        account_blocked, trade_suspended_by_user, pattern_day_trader); 422 naming a field that
        does not exist or has the wrong type. The account as GET /v2/account shows it."""
        self._state.account = self._state.account.updated(fields)
        self.version += 1
        return self.account()

    @locked
    def split(self, symbol: str, ratio: int) -> None:
        """A forward split of `symbol` (a corporate action, no order): the position holds
        `ratio` times the shares at the same cost basis, as brokers book one (e.g. DriveWealth's
        `positions.updated` STOCK_SPLIT event; Alpaca documents none of its own). The bars
        served are split-adjusted already, so only the quantity held changes: what the tests of
        the function's book need (a split must not make its position foreign)."""
        position = self._state.book.positions[symbol]
        position[0] *= ratio
        self.version += 1

    @locked
    def close_position(self, symbol_or_id: str, qty: str | None = None,
                       percentage: str | None = None, wall: float | None = None) -> dict:
        """DELETE /v2/positions/{symbol_or_asset_id}[?qty=|percentage=]: a market sell."""
        body = validation.closing_sell(self.catalog.symbol_of(symbol_or_id), self._state.book,
                                       qty, percentage)
        return self.submit_order(body, wall)

    @locked
    def close_all_positions(self, wall: float | None = None) -> list[dict]:
        out = []
        for symbol in sorted(self._state.book.positions):
            try:
                order = self.close_position(symbol, wall=wall)
                out.append({"symbol": symbol, "status": 200, "body": order})
            except errors.BrokerError as exc:
                out.append({"symbol": symbol, "status": exc.status, "body": exc.body()})
        return out

    def _estimate(self, symbol: str) -> float:
        """The price a buy sent now is checked at (and a notional sell sized at): the latest
        trade the broker serves, in the exact open `book.OrderBook.estimate`."""
        clock = self._state.clock
        if self.realistic is None:
            return self._state.book.estimate(symbol, clock.open_day(), clock.mark_day())
        last = self._last_print(symbol, clock.now)
        return last.price if last is not None else 0.0

    # ---- snapshot ------------------------------------------------------------------------
    @locked
    def to_dict(self) -> dict:
        return snapshot.dump(self._state, self.market.name, self.start)

    @locked
    def load_dict(self, data: dict) -> None:
        """Resume from `to_dict` output (a snapshot of the same market and start)."""
        self._state = snapshot.load(data, self.market.name, self.start, self.calendar,
                                    self.prices)
        self.version += 1
