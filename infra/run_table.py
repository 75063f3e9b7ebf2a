"""What `make run` prints: one row per morning, then one verdict line, so a reader sees what
happened each morning and what the window amounted to against the benchmark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from infra.window import plural
from market import Market
from strategy.ledger import EquityRow


def header(benchmark: str) -> str:
    """The column names; the last column is the benchmark's close, named by its symbol."""
    return (
        f"{'date':<10}  {'status':<12} {'sells':>5} {'buys':>5} {'fills':>5} "
        f"{'cash':>10} {'equity':>10} {benchmark + ' close':>10}"
    )


def row(day: dict[str, Any]) -> str:
    """One morning, as `infra.localrun.run_local` reports it to `on_day`; a skipped morning's
    code (why) after the last column."""
    code = f"  {day['code']}" if day.get("code") else ""
    return (
        f"{day['date']:<10}  {day['status']:<12} {day['sells']:>5} {day['buys']:>5} "
        f"{day['fills']:>5} {day['cash']:>10.2f} {day['equity']:>10.2f} {day['benchmark']:>10.2f}"
        f"{code}"
    )


def foreign_note(summaries: Sequence[dict[str, Any]], hold: Mapping[str, int]) -> str | None:
    """What a run on an account holding shares the function did not buy amounted to, or None
    when no morning was skipped for them (the run then reconciles as usual)."""
    skipped = sum(s.get("code") == "foreign_positions" for s in summaries)
    if not skipped:
        return None
    held = ", ".join(f"{s} {q}" for s, q in sorted(hold.items())) or "shares"
    return (f"{skipped} of {len(summaries)} mornings skipped (foreign_positions): the account "
            f"holds {held} the function did not buy, so it traded nothing and sold none of "
            "them (no reconciliation: nothing to compare). MANAGE_EXISTING=true makes them the "
            "strategy's own: the first morning sells each that is not a candidate (rule 6).")


def verdict(equity: Sequence[EquityRow], cash: float, market: Market,
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
