"""Performance metrics of a backtest, strategy and benchmark measured the same way.

Conventions (also printed in report.md): daily simple returns; 252 sessions a year; risk-free
rate 0; sample standard deviation; the series start from a base value (initial cash, and the
benchmark close of the session before day one when the data has one) so day one's trading
counts; drawdowns on end-of-day values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from backtest.engine import Result
from backtest.roundtrips import RoundTrip, round_trips
from strategy.ledger import EquityRow

YEAR = 252


@dataclass(frozen=True)
class Drawdown:
    depth: float  # <= 0, e.g. -0.12 for 12 % below the peak
    peak: date
    trough: date
    recovery: date | None  # first day back at the peak; None if never within the window


def value_series(result: Result) -> tuple[pd.Series, pd.Series]:
    """Strategy equity and benchmark close by date, each starting at its base value."""
    base = None
    if result.base_date is not None and result.base_benchmark is not None:
        base = (result.base_date, result.initial_cash, result.base_benchmark)
    return row_series(result.equity, base)


def row_series(
    rows: Sequence[EquityRow], base: tuple[date, float, float] | None
) -> tuple[pd.Series, pd.Series]:
    """Equity and benchmark of `rows` by date, after `base` (date, equity, benchmark close)
    when there is one: a local run's rows measured as a backtest's."""
    dates = [row.date for row in rows]
    equity = [row.equity for row in rows]
    bench = [row.benchmark for row in rows]
    if base is not None:
        dates.insert(0, base[0])
        equity.insert(0, base[1])
        bench.insert(0, base[2])
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    return pd.Series(equity, index=index, name="equity"), pd.Series(bench, index=index)


def returns(values: pd.Series) -> pd.Series:
    return values.pct_change().iloc[1:]


def total_return(values: pd.Series) -> float:
    return float(values.iloc[-1] / values.iloc[0] - 1.0)


def cagr(values: pd.Series) -> float:
    periods = len(values) - 1
    if periods <= 0:
        return math.nan
    return float((values.iloc[-1] / values.iloc[0]) ** (YEAR / periods) - 1.0)


def volatility(rets: pd.Series) -> float:
    return float(rets.std(ddof=1) * math.sqrt(YEAR)) if len(rets) > 1 else math.nan


def sharpe(rets: pd.Series) -> float:
    sd = rets.std(ddof=1) if len(rets) > 1 else math.nan
    if not sd or not math.isfinite(sd):
        return math.nan
    return float(rets.mean() / sd * math.sqrt(YEAR))


def sortino(rets: pd.Series) -> float:
    """Mean return over downside deviation (root mean square of the negative returns, zeros
    counted for the rest), annualised."""
    if rets.empty:
        return math.nan
    downside = math.sqrt(float((np.minimum(rets.to_numpy(), 0.0) ** 2).mean()))
    if downside == 0:
        return math.nan
    return float(rets.mean() / downside * math.sqrt(YEAR))


def max_drawdown(values: pd.Series) -> Drawdown:
    peaks = values.cummax()
    depth = values / peaks - 1.0
    trough_at = int(np.argmin(depth.to_numpy()))
    trough = values.index[trough_at]
    peak_value = peaks.iloc[trough_at]
    peak = values.index[: trough_at + 1][values.iloc[: trough_at + 1] == peak_value][-1]
    after = values.iloc[trough_at:]
    back = after[after >= peak_value]
    recovery = back.index[0].date() if len(back) and depth.iloc[trough_at] < 0 else None
    return Drawdown(float(depth.iloc[trough_at]), peak.date(), trough.date(), recovery)


def beta_correlation(rets: pd.Series, bench_rets: pd.Series) -> tuple[float, float]:
    if len(rets) < 2 or bench_rets.var(ddof=1) == 0:
        return math.nan, math.nan
    beta = float(rets.cov(bench_rets) / bench_rets.var(ddof=1))
    return beta, float(rets.corr(bench_rets))


def result_trips(result: Result) -> list[RoundTrip]:
    """The backtest's round trips (`backtest.roundtrips`: first in, first out)."""
    return round_trips(result.fills, result.sessions.date, result.costs.commission)


def turnover(result: Result, equity: pd.Series) -> float:
    """Traded dollars (buys and sells) / 2 / mean equity, per year."""
    traded = sum(f.qty * f.price for f in result.fills)
    years = len(result.equity) / YEAR
    return float(traded / 2 / equity.mean() / years) if years else math.nan


def exposure(result: Result) -> float:
    """Mean fraction of end-of-day equity held in positions."""
    pairs = zip(result.cash, result.equity, strict=True)
    invested = [1.0 - cash / row.equity for cash, row in pairs]
    return float(np.mean(invested)) if invested else math.nan


@dataclass(frozen=True)
class Metrics:
    """One column of the report's table."""

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    drawdown: Drawdown
    beta: float
    correlation: float
    trades: int | None = None
    turnover: float | None = None
    win_rate: float | None = None
    holding_days: float | None = None
    exposure: float | None = None


def compute(result: Result) -> tuple[Metrics, Metrics]:
    """Metrics of the strategy and of the benchmark (held throughout) over the same days."""
    equity, bench = value_series(result)
    rets, bench_rets = returns(equity), returns(bench)
    beta, corr = beta_correlation(rets, bench_rets)
    trips = result_trips(result)
    strategy = Metrics(
        total_return=total_return(equity),
        cagr=cagr(equity),
        volatility=volatility(rets),
        sharpe=sharpe(rets),
        sortino=sortino(rets),
        drawdown=max_drawdown(equity),
        beta=beta,
        correlation=corr,
        trades=len(result.fills),
        turnover=turnover(result, equity),
        win_rate=sum(t.pnl > 0 for t in trips) / len(trips) if trips else math.nan,
        holding_days=float(np.mean([t.sessions_held for t in trips])) if trips else math.nan,
        exposure=exposure(result),
    )
    benchmark = Metrics(
        total_return=total_return(bench),
        cagr=cagr(bench),
        volatility=volatility(bench_rets),
        sharpe=sharpe(bench_rets),
        sortino=sortino(bench_rets),
        drawdown=max_drawdown(bench),
        beta=1.0,
        correlation=1.0,
    )
    return strategy, benchmark
