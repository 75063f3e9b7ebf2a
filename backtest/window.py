"""What a run's console says about its window: every way the sessions run differ from what the
user asked for (a START before the data or on a weekend, an END past the data, fewer sessions
than DAYS, too little history before the first morning) is a `note:` line, and one line says
what ran, so nothing is adjusted silently; and the one verdict line of a run, its return against
the benchmark's, measured as the backtest's report measures it. The backtest, the sweep,
reconcile, `make run` and `make chaos` all word their window here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from market import Market
from strategy import Params
from strategy.ledger import EquityRow

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


def window_verdict(equity: Sequence[EquityRow], cash: float, market: Market,
            unit: str = "mornings") -> str:
    """The window's return against the benchmark's over the same mornings, both measured as
    the backtest's report measures them: from the opening cash (and held shares, at cost), and
    from the benchmark's close
    of the session before the first morning (its first morning's close when there is none)."""
    first, last = equity[0], equity[-1]
    ours = last.equity / cash - 1.0
    theirs = benchmark_return(market, first.date, first.benchmark, last.benchmark)
    return (
        f"{plural(len(equity), unit[:-1], unit)} {first.date} .. {last.date}: equity {_pct(ours)} "
        f"(${cash:,.2f} -> ${last.equity:,.2f}) against {market.benchmark} {_pct(theirs)}"
    )


def benchmark_base(day: date, market: Market) -> tuple[date, float] | None:
    """The session before `day` and the benchmark's close then (carried over gaps): where the
    benchmark's line starts, as in a backtest of the same window; None on the data's first day."""
    closes = market.benchmark_close
    before = closes[closes.index < pd.Timestamp(day)].dropna()
    return (before.index[-1].date(), float(before.iloc[-1])) if len(before) else None


def benchmark_return(market: Market, first: date, first_close: float, last_close: float
                     ) -> float:
    """The benchmark's return from the close of the session before `first` (its `first_close`
    when the data has none) to `last_close`: the base the backtest's report uses."""
    before = benchmark_base(first, market)
    return last_close / (before[1] if before else first_close) - 1.0


def window_benchmark(market: Market, sessions: pd.DatetimeIndex) -> str:
    """'SPY +28.4 % over the window', for a command with no single equity line (a sweep)."""
    closes = market.benchmark_close
    first, last = float(closes.loc[sessions[0]]), float(closes.loc[sessions[-1]])
    change = benchmark_return(market, sessions[0].date(), first, last)
    return f"{market.benchmark} {_pct(change)} over the window"


def _pct(x: float) -> str:
    return f"{100 * x:+.1f} %"
