"""Walk-forward: is the sweep's best point real, or chosen on the very days it is judged on?

The window's sessions are cut into N + 1 consecutive blocks of (nearly) equal length. Fold k
(1..N) ranks the grid by Sharpe on the in-sample blocks 1..k (anchored: from the window's first
session) and trades the point ranked first on block k + 1, the out-of-sample period it never
saw; the default point (the flags' parameters) trades the same period beside it. Each
out-of-sample run starts flat with the equity the previous one ended with, so the folds stitch
into one out-of-sample equity curve, against the default point's and the benchmark's.

Each grid point is backtested once over the whole window and measured on the prefixes of its run
that end with each fold's in-sample period (`sweep_jobs.Measured.prefixes`): a backtest's day
reads only the days before it, so a prefix is the very backtest of the shorter window (a test
holds the two equal, and another one changes every bar after an in-sample period and finds the
ranking of that fold unchanged).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.engine import Result, run_backtest
from backtest.metrics import returns, sharpe, total_return, value_series
from backtest.sweep_jobs import Measured
from market import Market
from strategy import Params
from strategy.fills import Costs

MIN_BLOCK = 20  # sessions in the shortest block a fold may have: a month of trading

Point = tuple[Params, Costs]


@dataclass(frozen=True)
class Fold:
    """One fold: the in-sample window (from the walk's first session), the out-of-sample one."""

    number: int
    in_start: date
    in_end: date
    out_start: date
    out_end: date


@dataclass(frozen=True)
class FoldResult:
    """What walkforward.csv says of one fold."""

    fold: Fold
    chosen: int  # grid index of the point ranked first in-sample
    in_return: float
    in_sharpe: float
    out_return: float
    out_sharpe: float
    default_out_return: float
    benchmark_out_return: float


@dataclass(frozen=True)
class Walk:
    """The folds and the stitched out-of-sample equity of the chosen points, of the default
    point and of the benchmark, all from the same initial cash."""

    folds: tuple[FoldResult, ...]
    equity: pd.DataFrame  # columns walk_forward, default, benchmark; indexed by date


def folds(sessions: pd.DatetimeIndex, n: int) -> list[Fold]:
    """N folds over `sessions`; an error that says what to change when a block would be too
    short to judge a point on."""
    blocks = np.array_split(np.arange(len(sessions)), n + 1)
    if len(blocks[-1]) < MIN_BLOCK:
        raise ValueError(
            f"{n} walk-forward folds (--walk) cut {len(sessions)} sessions into blocks of "
            f"{len(blocks[-1])}; each needs >= {MIN_BLOCK}: use fewer folds or a longer window"
        )
    day = [d.date() for d in sessions]
    return [
        Fold(k, day[0], day[blocks[k - 1][-1]], day[blocks[k][0]], day[blocks[k][-1]])
        for k in range(1, n + 1)
    ]


def choose(measured: Sequence[Measured], fold: int) -> int:
    """The grid index with the best in-sample Sharpe of fold `fold` (1-based); a point with no
    Sharpe ranks last, ties go to the first in grid order."""
    def key(m: Measured) -> float:
        value = m.prefixes[fold - 1][1]
        return value if math.isfinite(value) else -math.inf

    return max(measured, key=key).index


def walk(
    market: Market,
    plan: Sequence[Fold],
    points: Sequence[Point],
    measured: Sequence[Measured],
    default: Point,
    cash: float,
    universe: Sequence[str] | None = None,
) -> Walk:
    """Each fold's chosen point and the default point traded out of sample, stitched."""
    def run(point: Point, fold: Fold, start_cash: float) -> Result:
        return run_backtest(market, fold.out_start, fold.out_end, start_cash, point[0],
                            point[1], universe)

    rows, curves = [], {"walk_forward": [], "default": [], "benchmark": []}
    chosen_cash = default_cash = bench_value = float(cash)
    for fold in plan:
        chosen = choose(measured, fold.number)
        mine, theirs = run(points[chosen], fold, chosen_cash), run(default, fold, default_cash)
        equity, bench = value_series(mine)
        default_equity, _ = value_series(theirs)
        bench_curve = bench / bench.iloc[0] * bench_value
        curves["walk_forward"].append(equity.iloc[1:] if curves["walk_forward"] else equity)
        curves["default"].append(default_equity.iloc[1:] if curves["default"] else default_equity)
        curves["benchmark"].append(bench_curve.iloc[1:] if curves["benchmark"] else bench_curve)
        in_return, in_sharpe = measured[chosen].prefixes[fold.number - 1]
        rows.append(FoldResult(
            fold, chosen, in_return, in_sharpe, total_return(equity), sharpe(returns(equity)),
            total_return(default_equity), total_return(bench),
        ))
        chosen_cash, default_cash = equity.iloc[-1], default_equity.iloc[-1]
        bench_value = bench_curve.iloc[-1]
    frame = pd.DataFrame({name: pd.concat(parts) for name, parts in curves.items()})
    return Walk(tuple(rows), frame)


def write_folds(result: Walk, points: Sequence[Point], keys: Sequence[str], path: Path) -> Path:
    """walkforward.csv: one row per fold."""
    head = ["fold", "in_sample_start", "in_sample_end", "out_of_sample_start",
            "out_of_sample_end", *keys, "in_sample_return", "in_sample_sharpe",
            "out_of_sample_return", "out_of_sample_sharpe", "default_out_of_sample_return",
            "benchmark_out_of_sample_return"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(head)
        for r in result.folds:
            f = r.fold
            values = _point_values(points[r.chosen], keys)
            writer.writerow([f.number, f.in_start, f.in_end, f.out_start, f.out_end, *values,
                             *(f"{x:.6g}" for x in (r.in_return, r.in_sharpe, r.out_return,
                                                    r.out_sharpe, r.default_out_return,
                                                    r.benchmark_out_return))])
    return path


def write_equity(result: Walk, path: Path) -> Path:
    """walkforward_equity.csv: the three stitched curves by date."""
    frame = result.equity.copy()
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.to_csv(path, index_label="date", float_format="%.2f", lineterminator="\n")
    return path


def summary(result: Walk, benchmark: str) -> str:
    """The console's verdict line."""
    first, last = result.equity.iloc[0], result.equity.iloc[-1]
    ret = {name: last[name] / first[name] - 1 for name in result.equity.columns}
    return (f"walk-forward, {len(result.folds)} folds, out of sample "
            f"{result.folds[0].fold.out_start} .. {result.folds[-1].fold.out_end}: chosen points "
            f"{100 * ret['walk_forward']:+.1f} % against the default point's "
            f"{100 * ret['default']:+.1f} % and {benchmark}'s {100 * ret['benchmark']:+.1f} %")


def _point_values(point: Point, keys: Sequence[str]) -> list[object]:
    params, costs = point
    return [getattr(costs if hasattr(costs, k) else params, k) for k in keys]
