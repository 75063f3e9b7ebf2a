"""`python -m backtest.sweep`: the backtest over a grid of parameters on all cores.

`--grid 'ema_span=5,10,20 max_positions=3,5,10'` runs every combination (the other flags set
the rest), writes one row per combination to sweep.csv and heatmaps of Sharpe and CAGR to
sweep.png. The market is loaded once in the parent and handed to each worker process once
(inherited for free under fork), so workers only backtest.
"""

from __future__ import annotations

import csv
import itertools
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from backtest import cli
from backtest.engine import run_backtest
from backtest.metrics import compute
from backtest.sweep_plot import heatmaps
from infra.cli import Parser
from infra.market import Market
from strategy import Params
from strategy.fills import Costs

INT_KEYS = ("ema_span", "lookback_bars", "max_positions")
FLOAT_KEYS = ("candidate_fraction", "position_size", "slippage_bps", "commission")
COST_KEYS = ("slippage_bps", "commission")


def parse_grid(text: str) -> dict[str, list[Any]]:
    """'ema_span=5,10 max_positions=3,5' -> {'ema_span': [5, 10], 'max_positions': [3, 5]}."""
    grid: dict[str, list[Any]] = {}
    for part in text.split():
        key, sep, values = part.partition("=")
        if not sep or not values:
            raise ValueError(f"grid item {part!r} is not name=v1,v2,...")
        if key not in INT_KEYS + FLOAT_KEYS:
            raise ValueError(f"unknown grid name {key!r}; use {', '.join(INT_KEYS + FLOAT_KEYS)}")
        if key in grid:
            raise ValueError(f"grid name {key!r} given twice")
        kind = int if key in INT_KEYS else float
        try:
            grid[key] = [kind(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"grid values of {key} must be {kind.__name__}s: {values!r}") from None
    if not grid:
        raise ValueError("empty grid; e.g. --grid 'ema_span=5,10 max_positions=3,5'")
    return grid


def grid_points(
    grid: dict[str, list[Any]], params: Params, costs: Costs
) -> list[tuple[Params, Costs]]:
    """Every combination, validated up front so a bad one fails before any work starts."""
    points = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values, strict=True))
        label = " ".join(f"{k}={v}" for k, v in point.items())
        p_over = {k: v for k, v in point.items() if k not in COST_KEYS}
        c_over = {k: v for k, v in point.items() if k in COST_KEYS}
        try:
            points.append((replace(params, **p_over), replace(costs, **c_over)))
        except ValueError as exc:
            raise ValueError(f"grid point {label}: {exc}") from None
    return points


_MARKET: Market | None = None


def _init(market: Market) -> None:
    global _MARKET
    _MARKET = market


def _run(job: tuple[int, Params, Costs, Any, Any, float, Any]) -> tuple[int, dict[str, Any]]:
    index, params, costs, start, end, cash, universe = job
    assert _MARKET is not None
    result = run_backtest(_MARKET, start, end, cash, params, costs, universe)
    strategy, _ = compute(result)
    row = {
        "total_return": strategy.total_return,
        "cagr": strategy.cagr,
        "volatility": strategy.volatility,
        "sharpe": strategy.sharpe,
        "sortino": strategy.sortino,
        "max_drawdown": strategy.drawdown.depth,
        "trades": strategy.trades,
        "win_rate": strategy.win_rate,
        "exposure": strategy.exposure,
        "final_equity": result.equity[-1].equity,
    }
    return index, row


def run_sweep(
    market: Market,
    points: Sequence[tuple[Params, Costs]],
    start: Any,
    end: Any,
    cash: float,
    universe: Sequence[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Metrics of each grid point, in grid order, computed on `workers` processes."""
    # Fail fast in the parent on a bad window or data, with the engine's own message.
    run_backtest(market, start, end, cash, points[0][0], points[0][1], universe)
    rows: list[dict[str, Any] | None] = [None] * len(points)
    jobs = [(k, p, c, start, end, cash, universe) for k, (p, c) in enumerate(points)]
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(market,)) as pool:
        futures = [pool.submit(_run, job) for job in jobs]
        bar = tqdm(total=len(jobs), desc="sweep", unit="run", disable=not progress, file=sys.stderr)
        with bar:
            for future in as_completed(futures):
                index, row = future.result()
                rows[index] = row
                bar.update()
    out = []
    for (p, c), row in zip(points, rows, strict=True):
        assert row is not None
        out.append({**p.to_dict(), "slippage_bps": c.slippage_bps, "commission": c.commission,
                    **row})
    return out


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
    return path


def parser() -> Parser:
    p = Parser(
        prog="python -m backtest.sweep",
        description="Backtest every combination of a parameter grid on all cores.",
    )
    cli.add_data_args(p, Path("out/sweep"))
    cli.add_strategy_args(p)
    p.add_argument(
        "--grid", required=True,
        help="space-separated name=v1,v2 items, e.g. 'ema_span=5,10,20 max_positions=3,5,10'",
    )
    p.add_argument("--workers", type=int, help="processes (default: all cores)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        grid = parse_grid(args.grid)
        points = grid_points(grid, cli.params_from(args), cli.costs_from(args))
        start, end = cli.window(args)
        universe = cli.universe_from(args)
        market = cli.load_market(args, points[0][0].benchmark)
        market.wide("close")  # built once here, inherited by the workers
        rows = run_sweep(market, points, start, end, args.cash, universe, args.workers)
        args.out.mkdir(parents=True, exist_ok=True)
        table = write_csv(rows, args.out / "sweep.csv")
        frame = pd.DataFrame(rows)
        sessions = market.window(start, end)
        title = f"{market.name}, {sessions[0].date()} .. {sessions[-1].date()}"
        picture = heatmaps(frame, list(grid), title, args.out / "sweep.png")
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    best = max(rows, key=lambda r: r["sharpe"] if r["sharpe"] == r["sharpe"] else -1e9)
    label = " ".join(f"{k}={best[k]}" for k in grid)
    print(f"{len(rows)} runs; best Sharpe {best['sharpe']:.2f} (CAGR {100 * best['cagr']:.1f} %)"
          f" at {label}")
    print(f"wrote {table}")
    print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
