"""Our engine against backtrader 1.9.78 running STRATEGY.md (tests/bench/backtrader_strategy.py)
over the full real period, both from the same loaded bars ($500, defaults). Before any figure
is printed the two runs must agree: the same fills and the same equity every day to the cent
(float noise only: backtrader books a sale as its cost plus the pnl)."""

from __future__ import annotations

import sys
import time

from backtest.engine import run_backtest
from market import Market, load_csv
from strategy import Params
from tests.bench.backtrader_strategy import run_backtrader
from tests.bench.harness import Row, best_of
from tests.conftest import REAL_DATA

CASH = 500.0


def rows() -> list[Row]:
    if not REAL_DATA.is_file():
        print(f"rows_backtrader: skipped, {REAL_DATA} not found", file=sys.stderr)
        return []
    bars = load_csv(REAL_DATA).bars
    # A fresh Market for each run: both pay for turning the long bars into wide frames.
    ours_s = best_of(lambda: run_backtest(Market(bars=bars), None, None, CASH, Params()))
    ours = run_backtest(Market(bars=bars), None, None, CASH, Params())
    t0 = time.perf_counter()
    theirs = run_backtrader(Market(bars=bars), None, None, CASH)
    theirs_s = time.perf_counter() - t0

    fills = [(f.date, f.symbol, str(f.side), f.qty, round(f.price, 6)) for f in ours.fills]
    if fills != [(d, s, side, q, round(p, 6)) for d, s, side, q, p in theirs.fills]:
        raise AssertionError("backtrader's fills differ from the engine's")
    if [r.date for r in ours.equity] != [d for d, _ in theirs.equity]:
        raise AssertionError("backtrader's equity days differ from the engine's")
    gap = max(abs(r.equity - v) for r, (_, v) in zip(ours.equity, theirs.equity, strict=True))
    if gap >= 0.005:
        raise AssertionError(f"backtrader's equity differs from the engine's by ${gap:.4f}")
    return [
        Row("engine vs backtrader 1.9.78, full real period", ours_s, "s",
            "equity equal to the cent", reference=theirs_s,
            note=f"{len(ours.fills)} fills alike, final equity ${ours.equity[-1].equity:.2f}, "
            f"largest daily gap ${gap:.1e}"),
    ]
