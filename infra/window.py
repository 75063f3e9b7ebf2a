"""Which sessions `make run` and `make chaos` run their mornings on, checked before anything
starts, and what they announce about it (the window's wording itself is `backtest.window`'s,
shared with the backtest, the sweep and reconcile)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from backtest.window import cash_warning, what_ran, window_notes
from market import Market, MarketDataError


def run_sessions(market: Market, start: date, days: int, reconciled: bool = True
                 ) -> pd.DatetimeIndex:
    """The sessions `days` mornings from `start` run on, checked before anything starts;
    `reconciled`: the run ends with a reconciliation, which needs a session before them."""
    sessions = market.window(pd.Timestamp(start), None)[:days]
    if sessions.empty:
        raise MarketDataError(f"START {start} is after the data, which ends "
                              f"{market.sessions[-1].date()}: pick an earlier START")
    if reconciled and sessions[0] == market.sessions[0]:
        raise MarketDataError(
            f"START {start} leaves no session of data before the first morning (the data "
            f"starts {market.sessions[0].date()}; its close values the account for the "
            f"reconciliation): pick START {market.sessions[1].date()} or later")
    return sessions


def announce(market: Market, sessions: pd.DatetimeIndex, asked_start: date | None, days: int,
             cash: float) -> None:
    """What `make run` or `make chaos` will run, and every way it differs from what was asked
    (`note:` lines), before anything starts."""
    print(what_ran(market, sessions, cash, "morning"))
    for line in [*window_notes(market, asked_start, None, sessions, days=days),
                 cash_warning(cash)]:
        if line:
            print(line)
