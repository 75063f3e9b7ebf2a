"""The grid's points grouped into units of work (a `Job`: the points that share one score pass
and ranking), and the local engine that runs them on this machine's cores.

The Ray engine (`backtest.sweep_ray`) runs the very same `measure` on the very same `Job`s, so
the two engines produce identical rows and therefore byte-identical sweep.csv files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd
from tqdm import tqdm

from backtest.engine import Result, prepare
from backtest.metrics import compute, returns, sharpe, total_return, value_series
from market import Market
from strategy import Params
from strategy.fills import Costs

When = pd.Timestamp | date | str | None


@dataclass(frozen=True)
class Point:
    """One grid point: its `index` in grid order and what it trades with."""

    index: int
    params: Params
    costs: Costs


@dataclass(frozen=True)
class Job:
    """One unit of work: the grid points that share a score pass (one benchmark, `ema_span`
    and `lookback_bars`), each backtested over [start, end]; with `cuts`, each point is also
    measured on the prefixes of its run that end on those days (walk-forward's in-sample
    windows, `backtest.walkforward`)."""

    points: tuple[Point, ...]
    start: When
    end: When
    cash: float
    universe: tuple[str, ...] | None = None
    cuts: tuple[date, ...] = ()


def jobs_of(points: Sequence[tuple[Params, Costs]], start: When, end: When, cash: float,
            universe: tuple[str, ...] | None = None, cuts: tuple[date, ...] = ()) -> list[Job]:
    """The grid's points grouped into jobs by what their score pass depends on."""
    groups: dict[tuple[str, int, int], list[Point]] = {}
    for k, (p, c) in enumerate(points):
        groups.setdefault((p.benchmark, p.ema_span, p.lookback_bars), []).append(Point(k, p, c))
    return [Job(tuple(g), start, end, cash, universe, cuts) for g in groups.values()]


@dataclass(frozen=True)
class Outcome:
    """What sweep.csv reports of one backtest, beside its parameters."""

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    trades: int
    win_rate: float
    exposure: float
    final_equity: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def summary(result: Result) -> Outcome:
    """What sweep.csv reports of one backtest."""
    s, _ = compute(result)
    return Outcome(
        total_return=s.total_return, cagr=s.cagr, volatility=s.volatility, sharpe=s.sharpe,
        sortino=s.sortino, max_drawdown=s.drawdown.depth, trades=s.trades,
        win_rate=s.win_rate, exposure=s.exposure, final_equity=result.equity[-1].equity,
    )


@dataclass(frozen=True)
class Measured:
    """One grid point's outcome over the whole window, and its (total return, Sharpe) on each
    prefix of `Job.cuts` (empty without cuts)."""

    index: int
    outcome: Outcome
    prefixes: tuple[tuple[float, float], ...] = ()


def measure(market: Market, job: Job) -> list[Measured]:
    """Backtest the job's points from one shared ranking (`engine.prepare`) and summarise each;
    the engine's errors (a bad window) propagate."""
    prepared = prepare(market, job.start, job.end, job.cash, [p.params for p in job.points],
                       job.universe)
    measured = []
    for point in job.points:
        result = prepared.run(point.params, point.costs)
        measured.append(Measured(point.index, summary(result), _prefixes(result, job.cuts)))
    return measured


def _prefixes(result: Result, cuts: Sequence[date]) -> tuple[tuple[float, float], ...]:
    """(total return, Sharpe) of the run up to each cut: a run's day depends only on the days
    before it, so its prefix is the very run over the shorter window."""
    if not cuts:
        return ()
    equity, _ = value_series(result)
    out = []
    for cut in cuts:
        head = equity[equity.index <= pd.Timestamp(cut)]
        out.append((total_return(head), sharpe(returns(head))))
    return tuple(out)


def heaviest_first(jobs: Sequence[Job]) -> list[Job]:
    """The order to hand jobs out in: the score pass grows with `lookback_bars` and the day
    loops with the points, so the longest jobs start first and the last one to finish is a
    short one (the cores finish together)."""
    return sorted(jobs, key=lambda j: (-j.points[0].params.lookback_bars * (1 + len(j.points)),
                                       j.points[0].index))


def collect(done: Iterable[list[Measured]], total: int, progress: bool) -> list[Measured]:
    """Each point's measure in grid order from the jobs' lists in completion order, with a
    progress bar on stderr counting points. The bar appears with the first finished job, so a
    grid that fails at once (a bad window) fails with its error line alone."""
    measured: list[Measured | None] = [None] * total
    bar: tqdm | None = None
    try:
        for batch in done:
            if bar is None:
                bar = tqdm(total=total, desc="sweep", unit="run", disable=not progress,
                           file=sys.stderr)
            for m in batch:
                measured[m.index] = m
            bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    missing = [k for k, o in enumerate(measured) if o is None]
    if missing:
        raise RuntimeError(f"sweep lost the results of grid points {missing}")
    return [o for o in measured if o is not None]


_MARKET: Market | None = None


def _keep(market: Market) -> None:
    global _MARKET
    _MARKET = market


def _measure_here(job: Job) -> list[Measured]:
    assert _MARKET is not None, "worker started without its market"
    return measure(_MARKET, job)


def run_local(market: Market, jobs: Sequence[Job], workers: int | None,
              progress: bool) -> list[Measured]:
    """The jobs on `workers` processes of this machine (default: all cores). Under fork the
    workers inherit the loaded market (and its wide frames) for free: nothing is pickled but
    the jobs and their outcomes."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    with ProcessPoolExecutor(workers, initializer=_keep, initargs=(market,)) as pool:
        futures = [pool.submit(_measure_here, job) for job in heaviest_first(jobs)]
        try:
            return collect(_results(futures), sum(len(j.points) for j in jobs), progress)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _results(futures: Sequence[Future[list[Measured]]]) -> Iterator[list[Measured]]:
    for future in as_completed(futures):
        yield future.result()
