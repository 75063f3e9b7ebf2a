"""Metrics on hand-computed series: 252-session years, risk-free 0, sample standard deviation."""

from __future__ import annotations

import math
import statistics
from datetime import date

import pandas as pd
import pytest

from backtest import metrics
from backtest.engine import Result
from strategy import Params
from strategy.fills import Costs
from strategy.ledger import EquityRow, Fill


def series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2024-01-01", periods=len(values)))


def test_max_drawdown_depth_and_peak_trough_recovery_dates():
    v = series([100, 110, 99, 104, 111, 120, 108])
    dd = metrics.max_drawdown(v)
    assert dd.depth == pytest.approx(99 / 110 - 1)
    assert (dd.peak, dd.trough) == (date(2024, 1, 2), date(2024, 1, 3))
    assert dd.recovery == date(2024, 1, 5)


def test_max_drawdown_not_recovered_and_none_at_all():
    dd = metrics.max_drawdown(series([100, 120, 90, 100]))
    assert dd.depth == pytest.approx(-0.25)
    assert (dd.peak, dd.trough, dd.recovery) == (date(2024, 1, 2), date(2024, 1, 3), None)
    assert metrics.max_drawdown(series([1, 2, 3])).depth == 0


def test_total_return_and_cagr_use_252_sessions_a_year():
    v = series([100.0] + [100.0] * 251 + [121.0])  # 252 returns
    assert metrics.total_return(v) == pytest.approx(0.21)
    assert metrics.cagr(v) == pytest.approx(0.21)
    half = series([100.0] * 126 + [121.0])  # 126 returns: half a year
    assert metrics.cagr(half) == pytest.approx(1.21**2 - 1)


def test_sharpe_sortino_and_volatility_by_hand():
    r = [0.01, -0.02, 0.03, 0.0, -0.01]
    rets = pd.Series(r)
    mean, sd = statistics.mean(r), statistics.stdev(r)
    assert metrics.volatility(rets) == pytest.approx(sd * math.sqrt(252))
    assert metrics.sharpe(rets) == pytest.approx(mean / sd * math.sqrt(252))
    downside = math.sqrt((0.02**2 + 0.01**2) / 5)
    assert metrics.sortino(rets) == pytest.approx(mean / downside * math.sqrt(252))
    assert math.isnan(metrics.sharpe(pd.Series([0.01, 0.01])))


def test_beta_and_correlation():
    bench = pd.Series([0.01, -0.02, 0.015, 0.0, 0.03])
    beta, corr = metrics.beta_correlation(2 * bench, bench)
    assert beta == pytest.approx(2.0) and corr == pytest.approx(1.0)
    beta, corr = metrics.beta_correlation(-0.5 * bench + 0.001, bench)
    assert beta == pytest.approx(-0.5) and corr == pytest.approx(-1.0)


def result_with(fills: list[Fill], equity: list[float], cash: list[float]) -> Result:
    days = pd.bdate_range("2024-01-01", periods=len(equity))
    return Result(
        params=Params(),
        costs=Costs(commission=1.0),
        initial_cash=1000.0,
        equity=[
            EquityRow(d.date(), e, 100.0 + k)
            for k, (d, e) in enumerate(zip(days, equity, strict=True))
        ],
        fills=fills,
        plans=[],
        rejections=[],
        cash=cash,
        base_date=date(2023, 12, 29),
        base_benchmark=99.0,
        sessions=days,
    )


def test_round_trips_win_rate_holding_turnover_and_exposure():
    d = pd.bdate_range("2024-01-01", periods=4)
    fills = [
        Fill(d[0].date(), "A", "buy", 10, 10.0),
        Fill(d[0].date(), "B", "buy", 5, 20.0),
        Fill(d[1].date(), "A", "sell", 10, 11.0),  # +10 - 2 commission: a win, 1 session
        Fill(d[3].date(), "B", "sell", 5, 19.0),  # -5 - 2: a loss, 3 sessions
    ]
    r = result_with(fills, [1000.0, 1000.0, 1000.0, 1000.0], [800.0, 900.0, 900.0, 1000.0])
    trips = metrics.result_trips(r)
    assert [(t.symbol, t.pnl, t.sessions_held) for t in trips] == [("A", 8.0, 1), ("B", -7.0, 3)]
    strategy, benchmark = metrics.compute(r)
    assert strategy.win_rate == 0.5
    assert strategy.holding_days == 2.0
    assert strategy.trades == 4
    assert strategy.exposure == pytest.approx((0.2 + 0.1 + 0.1 + 0.0) / 4)
    traded = 100 + 100 + 110 + 95
    assert strategy.turnover == pytest.approx(traded / 2 / 1000.0 / (4 / 252))
    # Benchmark from its base close 99 to 103.
    assert benchmark.total_return == pytest.approx(103 / 99 - 1)


def test_value_series_start_from_the_base_values():
    r = result_with([], [1010.0, 1020.0], [1010.0, 1020.0])
    equity, bench = metrics.value_series(r)
    assert list(equity) == [1000.0, 1010.0, 1020.0]
    assert list(bench) == [99.0, 100.0, 101.0]
    assert equity.index[0] == pd.Timestamp("2023-12-29")
