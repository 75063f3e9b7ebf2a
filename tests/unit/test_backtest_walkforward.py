"""Walk-forward (`make sweep WALK=N`): folds that never let an out-of-sample day into the
in-sample ranking, in-sample figures equal to the backtest of the in-sample window itself, and
the stitched out-of-sample equity built from the folds' own runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest import walkforward
from backtest.engine import run_backtest
from backtest.metrics import returns, sharpe, total_return, value_series
from backtest.sweep import grid_points, main, measure_grid, parse_grid
from market import Market, synthetic_market
from strategy import Params
from strategy.fills import Costs

GRID = "ema_span=5,10 max_positions=3,5 lookback_bars=30,50"
START, END = "2022-06-01", "2023-12-29"


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(seed=7)


def _measure(market: Market, cuts):
    points = grid_points(parse_grid(GRID), Params(), Costs())
    return points, measure_grid(market, points, START, END, 500.0, workers=1, progress=False,
                                cuts=cuts)


def test_folds_are_consecutive_and_out_of_sample_follows_in_sample(market):
    sessions = market.window(pd.Timestamp(START), pd.Timestamp(END))
    plan = walkforward.folds(sessions, 3)
    assert [f.number for f in plan] == [1, 2, 3]
    days = [d.date() for d in sessions]
    for fold in plan:
        assert fold.in_start == days[0]
        assert fold.in_end < fold.out_start <= fold.out_end
        assert days.index(fold.out_start) == days.index(fold.in_end) + 1  # no gap
    assert [f.in_end for f in plan[1:]] == [f.out_end for f in plan[:-1]]
    assert plan[-1].out_end == days[-1]
    with pytest.raises(ValueError, match="use fewer folds or a longer window"):
        walkforward.folds(sessions[:100], 5)


def test_in_sample_figures_are_the_backtest_of_the_in_sample_window(market):
    sessions = market.window(pd.Timestamp(START), pd.Timestamp(END))
    plan = walkforward.folds(sessions, 3)
    points, measured = _measure(market, tuple(f.in_end for f in plan))
    for (params, costs), m in zip(points, measured, strict=True):
        for fold in plan:
            alone = run_backtest(market, START, fold.in_end, 500.0, params, costs)
            equity, _ = value_series(alone)
            assert m.prefixes[fold.number - 1] == (total_return(equity),
                                                   sharpe(returns(equity)))


def test_no_out_of_sample_day_reaches_the_in_sample_ranking(market):
    sessions = market.window(pd.Timestamp(START), pd.Timestamp(END))
    plan = walkforward.folds(sessions, 3)
    cuts = tuple(f.in_end for f in plan)
    _, measured = _measure(market, cuts)
    # Every bar after fold 1's in-sample period scrambled: its ranking must not move.
    bars = market.bars.copy()
    later = bars["date"] > pd.Timestamp(plan[0].in_end)
    noise = np.random.default_rng(1).uniform(0.7, 1.3, int(later.sum()))
    for column in ("open", "high", "low", "close"):
        bars.loc[later, column] *= noise
    scrambled = Market(bars=bars, benchmark="SPY")
    _, again = _measure(scrambled, cuts)
    assert [m.prefixes[0] for m in again] == [m.prefixes[0] for m in measured]
    assert walkforward.choose(again, 1) == walkforward.choose(measured, 1)
    assert [m.prefixes[1] for m in again] != [m.prefixes[1] for m in measured]
    assert [m.outcome for m in again] != [m.outcome for m in measured]


def test_stitched_equity_chains_the_folds_out_of_sample_runs(market):
    sessions = market.window(pd.Timestamp(START), pd.Timestamp(END))
    plan = walkforward.folds(sessions, 3)
    points, measured = _measure(market, tuple(f.in_end for f in plan))
    default = (Params(), Costs())
    walked = walkforward.walk(market, plan, points, measured, default, 500.0)
    cash = default_cash = 500.0
    for row, fold in zip(walked.folds, plan, strict=True):
        best = max(range(len(points)), key=lambda k: (measured[k].prefixes[fold.number - 1][1],
                                                      -k))
        assert row.chosen == best
        mine = run_backtest(market, fold.out_start, fold.out_end, cash, *points[best])
        theirs = run_backtest(market, fold.out_start, fold.out_end, default_cash, *default)
        assert row.out_return == total_return(value_series(mine)[0])
        assert row.default_out_return == total_return(value_series(theirs)[0])
        cash, default_cash = mine.equity[-1].equity, theirs.equity[-1].equity
    assert walked.equity["walk_forward"].iloc[-1] == cash
    assert walked.equity["default"].iloc[-1] == default_cash
    assert walked.equity.index[0].date() == plan[0].in_end  # the base: the day before fold 1
    assert walked.equity.index[-1].date() == plan[-1].out_end


def test_cli_walk_writes_the_folds_and_marks_the_default_point(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--synthetic", "--start", START, "--end", END, "--grid", GRID,
                 "--walk", "2", "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    sweep = pd.read_csv(out / "sweep.csv")
    default = sweep[sweep["default"] == 1]
    assert len(default) == 1
    assert default[["ema_span", "max_positions", "lookback_bars"]].values.tolist() == [[10, 5, 50]]
    folds = pd.read_csv(out / "walkforward.csv")
    assert list(folds.columns) == [
        "fold", "in_sample_start", "in_sample_end", "out_of_sample_start", "out_of_sample_end",
        "ema_span", "max_positions", "lookback_bars", "in_sample_return", "in_sample_sharpe",
        "out_of_sample_return", "out_of_sample_sharpe", "default_out_of_sample_return",
        "benchmark_out_of_sample_return"]
    assert folds["fold"].tolist() == [1, 2]
    equity = pd.read_csv(out / "walkforward_equity.csv")
    assert list(equity.columns) == ["date", "walk_forward", "default", "benchmark"]
    chained = 500.0 * np.prod(1 + folds["out_of_sample_return"])
    assert equity["walk_forward"].iloc[-1] == pytest.approx(chained, abs=0.01)
    assert (out / "walkforward.png").read_bytes()[:4] == b"\x89PNG"
    assert "walk-forward, 2 folds" in printed and "ranked" in printed
