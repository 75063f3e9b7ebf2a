"""`python -m backtest.sweep`: the backtest over a grid of parameters, on all cores or on Ray.

`--grid 'ema_span=5,10,20 max_positions=3,5,10'` runs every combination (the other flags set
the rest), writes one row per combination to sweep.csv and heatmaps of Sharpe and CAGR to
sweep.png. `--engine local` (the default) runs the grid on this machine's processes, each of
which inherits the market loaded once in the parent; `--engine ray` runs it on Ray
(`backtest.sweep_ray`; RAY_ADDRESS for a cluster). Both write the same sweep.csv, byte for byte.
"""

from __future__ import annotations

import csv
import itertools
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from backtest import cli, walkforward
from backtest.arguments import Parser, count
from backtest.staged import staged
from backtest.sweep_jobs import Measured, jobs_of, run_local
from backtest.window import (
    cash_warning,
    plural,
    what_ran,
    window_benchmark,
    window_notes,
)
from market import Market
from strategy import Params
from strategy.fills import Costs


class Engine(StrEnum):
    """Where the grid runs."""

    LOCAL = "local"  # processes of this machine
    RAY = "ray"  # a Ray cluster (backtest.sweep_ray)


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


def run_sweep(
    market: Market,
    points: Sequence[tuple[Params, Costs]],
    start: Any,
    end: Any,
    cash: float,
    universe: Sequence[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
    engine: Engine = Engine.LOCAL,
    default: tuple[Params, Costs] | None = None,
) -> list[dict[str, Any]]:
    """One row per grid point, in grid order: its parameters, then its metrics. `engine` is
    `local` (processes of this machine) or `ray` (backtest.sweep_ray); both run the same
    `sweep_jobs.measure`, so they give the same rows."""
    measured = measure_grid(market, points, start, end, cash, universe, workers, progress,
                            engine)
    return rows_of(points, measured, default)


def rows_of(points: Sequence[tuple[Params, Costs]], measured: Sequence[Measured],
            default: tuple[Params, Costs] | None) -> list[dict[str, Any]]:
    """sweep.csv's rows: each point's parameters, its metrics, and whether it is `default`
    (the flags' own point, 1) or not (0)."""
    return [
        {**p.to_dict(), "slippage_bps": c.slippage_bps, "commission": c.commission,
         **m.outcome.to_dict(), "default": int((p, c) == default)}
        for (p, c), m in zip(points, measured, strict=True)
    ]


def measure_grid(
    market: Market,
    points: Sequence[tuple[Params, Costs]],
    start: Any,
    end: Any,
    cash: float,
    universe: Sequence[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
    engine: Engine = Engine.LOCAL,
    cuts: tuple[date, ...] = (),
) -> list[Measured]:
    """Each point measured (with its prefixes at `cuts`), in grid order, on `engine`."""
    kept = None if universe is None else tuple(universe)
    jobs = jobs_of(points, start, end, cash, kept, cuts)
    if engine == Engine.LOCAL:
        return run_local(market, jobs, workers, progress)
    if engine == Engine.RAY:
        from backtest.sweep_ray import run_ray  # Ray is imported only by those who use it

        return run_ray(market, jobs, workers, progress)
    raise ValueError(f"unknown sweep engine {engine!r}; use {' or '.join(Engine)}")


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
        description="Backtest every combination of a parameter grid on all cores or on Ray.",
    )
    cli.add_data_args(p, Path("out/sweep"))
    cli.add_strategy_args(p)
    p.add_argument(
        "--grid", required=True,
        help="space-separated name=v1,v2 items, e.g. 'ema_span=5,10,20 max_positions=3,5,10'",
    )
    p.add_argument(
        "--engine", choices=[e.value for e in Engine], default=Engine.LOCAL.value,
        help="local: processes of this machine (default); ray: a Ray cluster, RAY_ADDRESS or "
        "a local one",
    )
    p.add_argument(
        "--workers", type=count,
        help="processes, or Ray actors (default: all cores, or every CPU of the Ray cluster)",
    )
    p.add_argument(
        "--walk", type=count,
        help="walk-forward with N folds: rank the grid in sample, trade the best point on the "
        "next period; writes walkforward.csv, walkforward_equity.csv, walkforward.png",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        grid = parse_grid(args.grid)
        default = (cli.params_from(args), cli.costs_from(args))
        points = grid_points(grid, *default)
        start, end = cli.window(args)
        universe = cli.universe_from(args)
        warmup = max(p.history_sessions() for p, _ in points)  # --source alpaca's
        market = cli.load_market(args, points[0][0].benchmark, warmup)
        sessions = market.window(start, end)
        if sessions.empty:
            asked = f"{args.start or '...'}..{args.end or '...'}"
            raise ValueError(f"no sessions in the window {asked}; the data covers "
                             f"{market.sessions[0].date()} .. {market.sessions[-1].date()}")
        print(what_ran(market, sessions, args.cash, "session"), flush=True)
        largest = max((p for p, _ in points), key=lambda p: p.position_size)
        for line in [*window_notes(market, args.start, args.end, sessions,
                                   needed=min(p.ema_span for p, _ in points) + 1),
                     cash_warning(args.cash, largest)]:
            if line:
                print(line, flush=True)
        with staged(args.out) as stage:  # before the grid: an unwritable OUT fails at once
            market.wide("close")  # built once here, inherited by the workers or shipped to Ray
            plan = walkforward.folds(sessions, args.walk) if args.walk else []
            measured = measure_grid(market, points, start, end, args.cash, universe,
                                    args.workers, engine=Engine(args.engine),
                                    cuts=tuple(f.in_end for f in plan))
            rows = rows_of(points, measured, default)
            written = [write_csv(rows, stage / "sweep.csv")]
            title = f"{market.name}, {sessions[0].date()} .. {sessions[-1].date()}"
            written.append(_draw(rows, list(grid), title, stage / "sweep.png", market.caveat))
            walked = None
            if plan:
                walked = walkforward.walk(market, plan, points, measured, default, args.cash,
                                          universe)
                written += _write_walk(walked, points, list(grid), title, stage)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{_verdict(rows, list(grid))}; {window_benchmark(market, sessions)}")
    if walked is not None:
        print(walkforward.summary(walked, default[0].benchmark))
    if market.caveat:
        print(f"note: {market.caveat}")
    for path in written:
        print(f"wrote {args.out / path.name}")
    return 0


def _verdict(rows: Sequence[dict[str, Any]], keys: list[str]) -> str:
    """The best point by Sharpe, and where the default point ranks among the grid."""
    def sharpe(row: dict[str, Any]) -> float:
        return row["sharpe"] if row["sharpe"] == row["sharpe"] else -1e9

    ranked = sorted(rows, key=sharpe, reverse=True)
    best = ranked[0]
    label = " ".join(f"{k}={best[k]}" for k in keys)
    line = (f"{plural(len(rows), 'run')}; best Sharpe {best['sharpe']:.2f} (CAGR "
            f"{100 * best['cagr']:.1f} %) at {label}")
    marked = [k for k, row in enumerate(ranked) if row["default"]]
    if not marked:
        return line + "; the default point is not in the grid"
    d = ranked[marked[0]]
    return (line + f"; default point ({' '.join(f'{k}={d[k]}' for k in keys)}) Sharpe "
            f"{d['sharpe']:.2f}, ranked {marked[0] + 1} of {len(rows)}")


def _write_walk(walked: walkforward.Walk, points: Sequence[tuple[Params, Costs]],
                keys: list[str], title: str, out: Path) -> list[Path]:
    from backtest.sweep_plot import walk_plot

    benchmark = points[0][0].benchmark
    return [
        walkforward.write_folds(walked, points, keys, out / "walkforward.csv"),
        walkforward.write_equity(walked, out / "walkforward_equity.csv"),
        walk_plot(walked.equity, benchmark, [f.fold.out_start for f in walked.folds], title,
                  out / "walkforward.png"),
    ]


def _draw(rows: Sequence[dict[str, Any]], keys: list[str], title: str, path: Path,
          caveat: str) -> Path:
    """sweep.png; pandas' frame and matplotlib are imported here, once the grid has run."""
    import pandas as pd

    from backtest.sweep_plot import heatmaps

    return heatmaps(pd.DataFrame(rows), keys, title, path, caveat)


if __name__ == "__main__":
    raise SystemExit(main())
