"""`PaperBroker`: the simulated account behind the HTTP API, one lock in front of its parts.

The parts each do one job: `clock` (the session clock and what opens and closes do),
`book` (orders, fills through `strategy.fills`, cash and positions), `validation` (order
bodies and Alpaca's refusals), `wire` (Alpaca's JSON) and `snapshot` (the state saved and
resumed). This front only takes the lock, hands each call to the parts, and counts changes.

Every method that reads or changes the state runs under the lock (`@locked`), so the server
thread and a test calling methods directly never see half a change. `version` grows with
every change (the server saves a snapshot when it moved; order ids are salted with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pandas as pd

from infra.market import Market
from infra.paperbroker import errors, snapshot, validation, wire
from infra.paperbroker.bars import BarStore
from infra.paperbroker.book import OrderBook
from infra.paperbroker.calendar import SimCalendar, ny_date
from infra.paperbroker.clock import SessionClock, check_sessions, utc_instant
from infra.paperbroker.faults import FaultConfig, FaultInjector, FaultRule
from infra.paperbroker.lock import StateLock, locked
from infra.paperbroker.orders import Order, stable_id
from infra.paperbroker.prices import Prices
from infra.paperbroker.snapshot import BrokerState
from strategy.ledger import Fill


class PaperBroker:
    def __init__(
        self, market: Market, start: date, *, key_id: str, secret_key: str,
        cash: float = 500.0, fill_delay: float = 0.0, rate_limit: int | None = None,
        faults: FaultConfig | None = None, seed: int = 0, max_page_size: int = 10_000,
    ) -> None:
        self.market = market
        self.calendar = SimCalendar()
        self.start = check_sessions(self.calendar, market, start)
        self.key_id, self.secret_key = key_id, secret_key
        self.initial_cash = float(cash)
        self.fill_delay = float(fill_delay)
        self.rate_limit = rate_limit
        self.seed = seed
        self.prices = Prices(market)
        self.bars = BarStore(market, max_page_size)
        self.account_id = stable_id("account", f"{key_id}:{seed}")
        self._lock = StateLock(self)
        self.saver: Callable[[], None] | None = None  # called after each change (snapshot)
        self.version = 0
        self._restart(faults or FaultConfig())

    # ---- the state, read-only for callers ------------------------------------------------
    @property
    def now(self) -> pd.Timestamp:
        return self._state.clock.now

    @property
    def cash(self) -> float:
        return self._state.book.cash

    @property
    def positions(self) -> dict[str, list[float]]:
        return self._state.book.positions

    @property
    def orders(self) -> list[Order]:
        return self._state.book.orders

    @property
    def fills(self) -> list[Fill]:
        return self._state.book.fills

    @property
    def closing_equity(self) -> dict[str, float]:
        return self._state.book.closing_equity

    def _restart(self, faults: FaultConfig) -> None:
        self._state = BrokerState(
            SessionClock(self.calendar, self.start),
            OrderBook(self.prices, self.initial_cash),
            FaultInjector(faults, self.seed),
        )
        self.version += 1

    @locked
    def reset(self) -> None:
        """Back to the start: clock at the start session's open, initial cash, no orders."""
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

    def _advance(self, new: pd.Timestamp) -> dict:
        self._state.clock.advance(new, self._state.book, self._attempt)
        self.version += 1
        return self.clock()

    def _attempt(self, order: Order, session: int) -> None:
        self.version += 1
        self._state.book.fill(order, self.calendar.sessions[session], self._state.clock.now)

    def settle(self, wall: float | None = None) -> None:
        """Show the fills that are due: orders of the open session whose delay has passed."""
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            i = self.calendar.open_session(self._state.clock.now)
            if i is None:
                return
            for order in self._state.book.due(i, wall):
                self._attempt(order, i)

    # ---- orders --------------------------------------------------------------------------
    def submit_order(self, body: object, wall: float | None = None) -> dict:
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            state, book, clock = self._state, self._state.book, self._state.clock
            fields, cid = validation.identify(body)
            state.orders_by_cid[cid] += 1
            self.version += 1
            req = validation.parse_order(
                fields, cid, taken=book.client_order_ids, knows=self.prices.knows
            )
            est = book.estimate(req.symbol, clock.open_day(), clock.mark_day())
            validation.refuse_unfunded(req, est, book.buying_power, book.available)
            order = book.place(
                req, f"{self.account_id}:{self.version}", clock.fill_session(), clock.now,
                accepted_in_session=clock.open_day() is not None, est=est,
                fault=state.faults.order_fault(req.symbol), ready_at=wall + self.fill_delay,
            )
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

    @locked
    def cancel_order(self, order_id: str) -> None:
        book = self._state.book
        book.cancel(book.by_id(order_id), self._state.clock.now)
        self.version += 1

    @locked
    def cancel_all(self) -> list[dict]:
        canceled = self._state.book.cancel_open(self._state.clock.now)
        self.version += 1
        return [{"id": o.id, "status": 200, "body": wire.order_json(o)} for o in canceled]

    # ---- account and positions -----------------------------------------------------------
    @locked
    def equity(self) -> float:
        """Cash plus positions at the last close at or before the clock."""
        return self._state.book.equity(self._state.clock.mark_day())

    @locked
    def account(self) -> dict:
        clock = self._state.clock
        return wire.account_json(self._state.book.account(
            self.account_id, clock.mark_day(), self.initial_cash, clock.started))

    def _position_json(self, symbol: str) -> dict:
        clock = self._state.clock
        return wire.position_json(self._state.book.position(
            symbol, clock.mark_day(), clock.prev_mark_day()))

    @locked
    def list_positions(self) -> list[dict]:
        return [self._position_json(s) for s in sorted(self._state.book.positions)]

    @locked
    def get_position(self, symbol: str) -> dict:
        if symbol.upper() not in self._state.book.positions:
            raise errors.not_found("position")
        return self._position_json(symbol.upper())

    @locked
    def close_position(self, symbol: str, wall: float | None = None) -> dict:
        """DELETE /v2/positions/{symbol}: a market sell of what is available."""
        return self.submit_order(validation.closing_sell(symbol, self._state.book), wall)

    @locked
    def close_all_positions(self, wall: float | None = None) -> list[dict]:
        out = []
        for symbol in sorted(self._state.book.positions):
            try:
                order = self.close_position(symbol, wall)
                out.append({"symbol": symbol, "status": 200, "body": order})
            except errors.BrokerError as exc:
                out.append({"symbol": symbol, "status": exc.status, "body": exc.body()})
        return out

    # ---- assets and bars -----------------------------------------------------------------
    def asset(self, symbol: str) -> dict:
        symbol = symbol.upper()
        if not self.prices.knows(symbol):
            raise errors.not_found(f"asset {symbol}")
        return wire.asset_json(symbol)

    def assets(self) -> list[dict]:
        return [self.asset(s) for s in sorted({*self.market.symbols, self.market.benchmark})]

    def get_bars(self, params: dict[str, str]) -> dict:
        with self._lock:
            today = ny_date(self._state.clock.now)
        return self.bars.query(params, today)

    # ---- faults and stats ----------------------------------------------------------------
    @locked
    def set_faults(self, config: FaultConfig, seed: int | None = None) -> None:
        self._state.faults = FaultInjector(config, self.seed if seed is None else seed)
        self.version += 1

    @locked
    def http_faults(self, method: str, path: str) -> list[FaultRule]:
        fired = self._state.faults.http_faults(method, path)
        if fired:
            self.version += 1
        return fired

    @locked
    def faults(self) -> dict:
        return self._state.faults.to_dict()

    @locked
    def count_request(self, endpoint: str) -> None:
        self._state.requests[endpoint] += 1

    @locked
    def stats(self) -> dict:
        return self._state.stats()

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
