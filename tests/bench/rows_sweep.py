"""The 27-combination sweep over the full real period (ema_span x max_positions x lookback_bars,
3 values each) through `python -m backtest.sweep`, with each engine: wall time of the whole
command (interpreter, CSV load, the grid, sweep.csv, sweep.png), against the same 27 backtests
run one after another in this process. The Ray row also checks that both engines wrote the same
sweep.csv, byte for byte. A breakdown row says where the time of one run goes. The last row is a
1,000-point walk-forward over 5 folds (`--walk 5`), the whole command."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backtest.engine import run_backtest
from backtest.metrics import compute
from backtest.sweep import grid_points, parse_grid
from market import Market, load_csv
from strategy import Params
from strategy.fills import Costs
from tests.bench.harness import Bound, Goal, Row
from tests.conftest import REAL_DATA, ROOT

GRID = "ema_span=5,10,20 max_positions=3,5,10 lookback_bars=30,50,100"
# 5 x 5 x 8 x 5 = 1,000 points, 25 distinct score passes.
GRID_1000 = ("ema_span=4,6,8,10,12 lookback_bars=30,40,50,60,80 "
             "max_positions=2,3,4,5,6,8,10,12 candidate_fraction=0.03,0.05,0.07,0.1,0.15")


def _cli(out: Path, engine: str, grid: str = GRID, *more: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local Ray
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "backtest.sweep", "--data", str(REAL_DATA), "--out", str(out),
         "--grid", grid, "--engine", engine, *more],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return time.perf_counter() - t0


def _serial() -> tuple[float, str]:
    """The plain way: load once, then the 27 backtests one after another; and the breakdown."""
    t0 = time.perf_counter()
    market = load_csv(REAL_DATA)
    t1 = time.perf_counter()
    market = Market(bars=market.bars, benchmark="SPY")
    market.wide("close")
    t2 = time.perf_counter()
    runs = []
    for params, costs in grid_points(parse_grid(GRID), Params(), Costs()):
        t = time.perf_counter()
        compute(run_backtest(market, None, None, 500.0, params, costs))
        runs.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    cores = os.cpu_count() or 1
    note = (f"load {t1 - t0:.2f} s, wide frames {t2 - t1:.2f} s, one run {min(runs):.2f}-"
            f"{max(runs):.2f} s; 27 runs {sum(runs):.1f} s of CPU, /{cores} cores = "
            f"{sum(runs) / cores:.1f} s")
    return total, note


def rows() -> list[Row]:
    if not REAL_DATA.is_file():
        print(f"rows_sweep: skipped, {REAL_DATA} not found", file=sys.stderr)
        return []
    serial, breakdown = _serial()
    with tempfile.TemporaryDirectory() as tmp:
        local = min(_cli(Path(tmp) / f"local{k}", "local") for k in range(2))
        ray = _cli(Path(tmp) / "ray", "ray")
        walk = _cli(Path(tmp) / "walk", "local", GRID_1000, "--walk", "5")
        same = (Path(tmp) / "local0" / "sweep.csv").read_bytes() == (
            Path(tmp) / "ray" / "sweep.csv").read_bytes()
    if not same:
        raise AssertionError("sweep --engine ray wrote another sweep.csv than --engine local")
    cores = os.cpu_count() or 1
    return [
        Row("sweep 27 combinations, full real period, local", local, "s",
            reference=serial, goal=Goal(Bound.BELOW, 4.0),
            note=f"target on 2 cores, {cores} here; CLI wall, best of 2; reference: the 27 "
            "runs one after another in one process"),
        Row("sweep 27 combinations, full real period, Ray", ray, "s",
            "same sweep.csv as local", reference=serial,
            note="a local Ray started and stopped by the CLI (about 5 s of it); sweep.csv "
            "byte-identical"),
        Row("sweep breakdown (serial, in process)", serial, "s", note=breakdown),
        Row("walk-forward, 1,000 points x 5 folds, full real period, local", walk, "s",
            goal=Goal(Bound.BELOW, 60.0),
            note=f"CLI wall, once; {GRID_1000!r}: 25 score passes, each point run once over the "
            "window and measured on its in-sample prefixes, 10 out-of-sample runs"),
    ]
