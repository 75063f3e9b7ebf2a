"""What a run's console says about its window: every way the sessions run differ from what the
user asked for (a START before the data or on a weekend, an END past the data, fewer sessions
than DAYS, too little history before the first morning) is a `note:` line, and one line says
what ran, so nothing is adjusted silently."""

from __future__ import annotations

from datetime import date

import pandas as pd

from market import Market, MarketDataError
from strategy import Params

DEFAULTS = Params()


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 morning', '2 mornings'; `words` where adding an s is wrong ('daily summaries')."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def window_notes(
    market: Market,
    asked_start: date | None,
    asked_end: date | None,
    sessions: pd.DatetimeIndex,
    *,
    days: int | None = None,
    needed: int = DEFAULTS.ema_span + 1,
) -> list[str]:
    """The `note:` lines for the `sessions` that will run when `asked_start`, `asked_end` and
    `days` (a run's mornings) were asked for; `needed`: the closes before a morning that
    score a symbol (rule 2: more than ema_span)."""
    notes: list[str] = []
    first, last = sessions[0].date(), sessions[-1].date()
    data_first, data_last = market.sessions[0].date(), market.sessions[-1].date()
    if asked_start is not None and asked_start != first:
        where = (f"before the data, which starts {data_first}" if asked_start < data_first
                 else f"not a session of the data (a {asked_start:%A})")
        notes.append(f"START {asked_start} is {where}: starting at {first}")
    if asked_end is not None and asked_end != last:
        where = (f"past the data, which ends {data_last}" if asked_end > data_last
                 else f"not a session of the data (a {asked_end:%A})")
        notes.append(f"END {asked_end} is {where}: ending at {last}")
    if days is not None and len(sessions) < days:
        notes.append(f"the data has only {plural(len(sessions), 'session')} from {first} "
                     f"(it ends {data_last}): running {len(sessions)}, not DAYS={days}")
    history = int(market.sessions.searchsorted(sessions[0]))
    if history < needed:
        notes.append(f"{first} has {plural(history, 'session')} of data before it and a symbol "
                     f"is scored from {needed} closes on: the first "
                     f"{plural(needed - history, 'morning')} can trade nothing")
    return [f"note: {n}" for n in notes]


def what_ran(market: Market, sessions: pd.DatetimeIndex, cash: float, unit: str) -> str:
    """One line: the data, the window, its sessions and the opening cash."""
    return (f"{market.name}: {plural(len(sessions), unit)} {sessions[0].date()} .. "
            f"{sessions[-1].date()}, cash ${cash:,.2f}")


def cash_warning(cash: float, params: Params = DEFAULTS) -> str | None:
    """A warning when the opening cash cannot buy one position: every morning would plan
    buys the buying-power guard then drops, and the run would trade nothing."""
    if cash >= params.position_size:
        return None
    return (f"warning: CASH ${cash:,.2f} is below the position size "
            f"${params.position_size:,.2f}: a buy costs about that much, so the buying-power check "
            "refuses nearly every buy and the run trades little or nothing")


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
