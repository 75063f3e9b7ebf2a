"""One reconciliation from what the account reported and the data it traded on: the starting
state, the backtest of the same sessions from that state, and their comparison. No I/O here;
`python -m backtest.reconcile` and `make run` read the account and write the report around it.

Starting state (docs/reconcile.md): the positions are the net shares of every FILL before the
window; the equity is the account's portfolio-history point on the session before the window
(a fresh account without one and without fills: the history's base value); cash is that equity
minus the positions at that session's close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from alpaca_adapter.auctions import Auctions
from backtest.engine import Result, run_backtest
from backtest.reconcile.account import AccountHistory
from backtest.reconcile.compare import (
    EquityPoint,
    Reconciliation,
    StartState,
    reconcile,
    starting_state,
)
from market import Market, MarketDataError
from strategy import Params
from strategy.fills import Costs, usable_price


@dataclass(frozen=True)
class Outcome:
    first: date
    last: date
    start: StartState
    reconciliation: Reconciliation
    backtest: Result
    auctions_refused: str | None = None  # why no auction price is known (None: asked, served)


def reconcile_account(
    history: AccountHistory,
    market: Market,
    start: date,
    end: date,
    params: Params | None = None,
    universe: Sequence[str] | None = None,
    costs: Costs | None = None,
    auctions: Auctions | None = None,
) -> Outcome:
    """The account of `history` against the backtest (with `costs`, default none, as the paper
    broker fills) of the sessions of `market` in [start, end]; `auctions`: the official
    opening prices the fills are also measured against (`alpaca_adapter.auctions`).
    Raises ValueError (one line, what to fix) when the two cannot be compared."""
    if start > end:
        raise MarketDataError(f"--start {start} is after --end {end}")
    sessions = market.window(pd.Timestamp(start), pd.Timestamp(end))
    if sessions.empty:
        raise MarketDataError(f"no session of the data in {start}..{end}")
    earlier = market.sessions[market.sessions < sessions[0]]
    if earlier.empty:
        raise MarketDataError(f"the data has no session before {sessions[0].date()}: the "
                              "starting positions are valued at its close")
    # The account's side is the whole window asked for: a session the data lacks shows as one
    # the backtest has no value for, never silently dropped.
    before, first, last = earlier[-1], sessions[0].date(), sessions[-1].date()
    fills = [f for f in history.fills if start <= f.day <= end]
    equity = window_equity(history, start, end)
    prior = [f for f in history.fills if f.day < start]
    state = starting_state(prior, _start_equity(history, before.date(), bool(prior)),
                           market.wide("close").loc[:before].ffill().iloc[-1].dropna().to_dict())
    if state.cash < 0 or (state.cash == 0 and not state.positions):
        raise ValueError(f"the account's cash before {first} was ${state.cash:,.2f}: start the "
                         "window after the account was funded (margin loans are not modelled)")
    result = run_backtest(market, first, last, state.cash, params, costs, universe,
                          positions=state.positions)
    opens = market.wide("open")
    at = {(f.day, f.symbol): float(opens.at[pd.Timestamp(f.day), f.symbol]) for f in fills
          if f.symbol in opens.columns and pd.Timestamp(f.day) in opens.index}
    usable = {k: v for k, v in at.items() if usable_price(v)}
    auctions = auctions or Auctions()
    return Outcome(first, last, state,
                   reconcile(fills, equity, result.fills, result.equity, usable,
                             [o for o in history.orders if start <= o.day <= end],
                             auctions.opens), result, auctions.refused)


def window_equity(history: AccountHistory, first: date, last: date) -> list[EquityPoint]:
    """The account's equity points in [first, last]; none is an error: nothing to compare."""
    equity = [p for p in history.equity if first <= p.day <= last]
    if not equity:
        raise ValueError(f"the account has no portfolio history in {first}..{last}: is it "
                         "the account that traded this window, and was it open then?")
    return equity


def _start_equity(history: AccountHistory, before: date, traded_before: bool) -> float:
    """The account's equity at the close of `before`; for a fresh account (no point that day,
    no fill before) Alpaca's base value, its equity before its first point."""
    on_day = [p.equity for p in history.equity if p.day == before]
    if on_day:
        return on_day[-1]
    if traded_before or history.base_value is None:
        raise ValueError(f"the account's portfolio history has no close on {before}, the "
                         "session before the window: its starting value is unknown")
    return history.base_value
