"""The read side of `PaperBroker`: its state as tests and tools read it, the account,
positions, activities and portfolio history as Alpaca's GET routes answer them, and its market
data (bars, latest trades, auctions). Reading changes
nothing (no `version` move); a read of more than one field holds the lock, so it never sees half
a change.

A mixin rather than an object of its own: routes, tests and infra call these methods on the
broker, and `reset` and `load_dict` replace the whole state they read (`_state`).
"""

from __future__ import annotations

import pandas as pd

from infra.paperbroker import auctions, errors, history, trades, wire
from infra.paperbroker.assets import Catalog
from infra.paperbroker.bars import BarStore, JsonText
from infra.paperbroker.calendar import SimCalendar, ny_date
from infra.paperbroker.feeds import DataPlan, Feed, recent_sip_cutoff
from infra.paperbroker.lock import StateLock, locked
from infra.paperbroker.margin import Margin, book_margin
from infra.paperbroker.orders import Order
from infra.paperbroker.prices import Prices
from infra.paperbroker.realistic import RealisticOpen
from infra.paperbroker.snapshot import BrokerState
from strategy.ledger import Fill


class AccountViews:
    """What `PaperBroker` shows; it provides the fields declared here."""

    _lock: StateLock
    _state: BrokerState
    account_id: str
    initial_cash: float
    catalog: Catalog

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

    # ---- account and positions -----------------------------------------------------------
    @locked
    def equity(self) -> float:
        """Cash plus positions at the last close at or before the clock."""
        return self._state.book.equity(self._state.clock.mark_day())

    @locked
    def account(self) -> dict:
        clock = self._state.clock
        return wire.account_json(self._state.book.account(
            self.account_id, clock.mark_day(), self.initial_cash, clock.started,
            self._state.account, self._margin()))

    def _margin(self, exclude: Order | None = None) -> Margin:
        """The account's buying power now, net of what the open buys but `exclude` hold."""
        return book_margin(self._state.book, self._state.clock.mark_day(), self.initial_cash,
                           self._state.account, exclude)

    def _position_json(self, symbol: str) -> dict:
        clock = self._state.clock
        return wire.position_json(self._state.book.position(
            symbol, clock.mark_day(), clock.prev_mark_day()))

    @locked
    def list_positions(self) -> list[dict]:
        return [self._position_json(s) for s in sorted(self._state.book.positions)]

    @locked
    def get_position(self, symbol_or_id: str) -> dict:
        symbol = self.catalog.symbol_of(symbol_or_id)
        if symbol not in self._state.book.positions:
            raise errors.POSITION_NOT_FOUND()
        return self._position_json(symbol)

    # ---- reconciliation: activities and portfolio history (`history`) --------------------
    @locked
    def activities(self, query: history.ActivityQuery) -> list[dict]:
        return history.fill_activities(self._state.book.orders, self.account_id, query)

    @locked
    def portfolio_history(self, query: history.HistoryQuery) -> dict:
        clock, book = self._state.clock, self._state.book
        today = clock.open_day()
        points = history.equity_points(book.closing_equity,
                                       None if today is None else today.date(),
                                       book.equity(clock.mark_day()))
        return history.portfolio_history(points, query, self.initial_cash, ny_date(clock.now))


class MarketDataViews:
    """The market data API of `PaperBroker` (bars, latest trades, auctions), as the data plan
    and the open model serve it; it provides the fields declared here."""

    _lock: StateLock
    _state: BrokerState
    bars: BarStore
    prices: Prices
    calendar: SimCalendar
    data_plan: DataPlan
    realistic: RealisticOpen | None

    def get_bars(self, params: dict[str, str], symbol: str | None = None) -> JsonText:
        """GET /v2/stocks/bars, or GET /v2/stocks/{symbol}/bars when `symbol` is given."""
        with self._lock:
            now = self._state.clock.now
        today, cutoff = ny_date(now), recent_sip_cutoff(self.data_plan, now)
        if symbol is None:
            return self.bars.query(params, today, cutoff)
        return self.bars.query_symbol(symbol, params, today, cutoff)

    def latest_trades(self, params: dict[str, str], symbol: str | None = None) -> dict:
        """GET /v2/stocks/trades/latest, or GET /v2/stocks/{symbol}/trades/latest when `symbol`
        is given (`trades`: the price a buy sent now is checked at)."""
        with self._lock:
            now = self._state.clock.now
        route = trades.MULTI_PARAMETERS if symbol is None else trades.SYMBOL_PARAMETERS
        feed = trades.checked_feed(params, route)
        if feed == Feed.SIP and recent_sip_cutoff(self.data_plan, now) is not None:
            raise errors.recent_sip_forbidden()
        if symbol is None:
            found = {s: self._last_print(s, now) for s in trades.requested_symbols(params)}
            return {"trades": {s: trades.trade_json(s, last) for s, last in found.items()
                               if last is not None}}
        sym = symbol.strip().upper()
        last = self._last_print(sym, now)
        if last is None:
            raise trades.no_trade(sym)
        return {"symbol": sym, "trade": trades.trade_json(sym, last)}

    def auctions(self, params: dict[str, str]) -> dict:
        """GET /v2/stocks/auctions: the opening and closing auctions that happened by now."""
        with self._lock:
            now = self._state.clock.now
        opening = (auctions.exact_opening(self.calendar, self.prices) if self.realistic is None
                   else self.realistic.auction)
        source = auctions.AuctionSource(self.calendar, self.prices, opening)
        return auctions.query(params, now, source, recent_sip_cutoff(self.data_plan, now))

    def _last_print(self, symbol: str, now: pd.Timestamp) -> trades.LastPrint | None:
        auction = None if self.realistic is None else self.realistic.auction
        return trades.last_print(self.prices, self.calendar, now, symbol, auction)
